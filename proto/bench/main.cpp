// SPDX-License-Identifier: MIT
// buntime-ipc-bench: round trips and one-way throughput, shm rings vs a unix socketpair.
//
// The shm side sends whole messages with proto::sendMessage/receiveMessage (a body larger
// than a frame travels as continuation frames), as a worker and its supervisor do.
// Each measurement forks a child: an echo peer for round trips, a sink that acknowledges
// once at the end for one-way streaming. Numbers go to stdout; nothing is asserted.
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/base/clock.h"
#include "buntime/base/unique_fd.h"
#include "buntime/proto/stream.h"
#include "buntime/shm/channel.h"

namespace shm = buntime::shm;
namespace proto = buntime::proto;
using namespace std::chrono_literals;
using buntime::base::Clock;
using buntime::base::UniqueFd;

namespace {

constexpr std::uint16_t kData = 1;
constexpr std::uint16_t kStop = 2;
constexpr std::uint16_t kAck = 3;
constexpr auto kTimeout = 30s;

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "buntime-ipc-bench: %s\n", what);
    std::exit(2);
}

struct Options {
    std::size_t iterations = 20000;  // round trips for payloads up to 1 KiB (scaled down above)
    std::size_t messages = 1000000;  // one-way messages for payloads up to 1 KiB (scaled down above)
    std::vector<std::size_t> sizes = {64, 1024, 64 * 1024, 1024 * 1024};
    std::size_t ring_bytes = 256 * 1024;
    std::chrono::nanoseconds spin = 30us;
    int parent_cpu = -1;  // --pin a,b: parent on CPU a, children on CPU b
    int child_cpu = -1;
};

const Options* g_options = nullptr;

void pinTo(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

struct Latency {
    double p50_us = 0;
    double p99_us = 0;
};

struct Result {
    Latency rtt;
    double msgs_per_s = 0;
    shm::RingStats rtt_counters;  // both rings
    shm::RingStats oneway_counters;
};

std::size_t roundTrips(const Options& o, std::size_t size) {
    return std::max<std::size_t>(100, size <= 1024 ? o.iterations : o.iterations * 1024 / size * 8);
}

std::size_t oneWayCount(const Options& o, std::size_t size) {
    const std::size_t by_bytes = (std::size_t(4) << 30) / std::max<std::size_t>(size, 1);  // ~4 GiB per run
    return std::max<std::size_t>(200, std::min(o.messages, by_bytes));
}

Latency percentiles(std::vector<double>& ns) {
    std::sort(ns.begin(), ns.end());
    auto at = [&](double q) { return ns[std::min(ns.size() - 1, std::size_t(q * double(ns.size())))] / 1000.0; };
    return {at(0.50), at(0.99)};
}

int waitChild(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

shm::RingStats countersOf(const shm::Channel& ch) {
    shm::RingStats both = shm::snapshot(ch.outboundCounters());
    both += shm::snapshot(ch.inboundCounters());
    return both;
}

// --- shared memory ---------------------------------------------------------------------

shm::Channel makeChannel(const Options& o) {
    shm::ChannelConfig cfg;
    cfg.ring_bytes = o.ring_bytes;
    cfg.spin = o.spin;
    auto ch = shm::Channel::create(cfg);
    if (!ch) die(("Channel::create: " + shm::toString(ch.error())).c_str());
    return std::move(ch).value();
}

// A forked child: its pid, and the parent's descriptor for it (the pidfd a channel
// watches, or the parent's end of a socketpair).
struct Peer {
    pid_t pid = -1;
    UniqueFd fd;
};

// The returned pidfd must outlive the use of `sup`, which watches it.
template <typename F>
Peer forkWorker(shm::Channel& sup, const Options& o, F body) {
    const shm::ChannelFds fds = sup.fds();
    const pid_t pid = ::fork();
    if (pid < 0) die("fork failed");
    if (pid > 0) {
        Peer peer{pid, UniqueFd(int(::syscall(SYS_pidfd_open, pid, 0)))};
        sup.setPeerPidfd(peer.fd.get());
        return peer;
    }
    pinTo(o.child_cpu);
    auto w = shm::Channel::open(fds, o.spin);
    if (!w || w->watchParent() != shm::Error::Ok) ::_exit(3);
    ::_exit(body(*w));
}

Result shmRun(const Options& o, std::size_t size) {
    Result r;
    std::vector<std::byte> payload(size, std::byte{0x5a});
    {  // round trips: the child echoes every message
        shm::Channel sup = makeChannel(o);
        const Peer peer = forkWorker(sup, o, [](shm::Channel& w) {
            proto::Message m;
            for (;;) {
                if (proto::receiveMessage(w, m, kTimeout) != shm::Error::Ok) return 4;
                if (m.kind == kStop) return 0;
                if (proto::sendMessage(w, kData, 0, m.request_id, {}, m.body, kTimeout) != shm::Error::Ok) return 5;
            }
        });
        const std::size_t n = roundTrips(o, size);
        const std::size_t warmup = n / 10 + 10;
        std::vector<double> ns;
        ns.reserve(n);
        proto::Message m;
        for (std::size_t i = 0; i < warmup + n; ++i) {
            const auto t0 = Clock::now();
            if (proto::sendMessage(sup, kData, 0, i, {}, payload, kTimeout) != shm::Error::Ok) die("shm send");
            if (proto::receiveMessage(sup, m, kTimeout) != shm::Error::Ok || m.body.size() != size) die("shm receive");
            const auto t1 = Clock::now();
            if (i >= warmup)
                ns.push_back(double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
        }
        proto::sendMessage(sup, kStop, 0, 0, {}, {}, kTimeout);
        if (waitChild(peer.pid) != 0) die("shm echo child failed");
        r.rtt = percentiles(ns);
        r.rtt_counters = countersOf(sup);
    }
    {  // one-way: the child reads everything and acknowledges once
        shm::Channel sup = makeChannel(o);
        const std::size_t n = oneWayCount(o, size);
        const Peer peer = forkWorker(sup, o, [n, size](shm::Channel& w) {
            proto::Message m;
            for (std::size_t i = 0; i < n; ++i) {
                if (proto::receiveMessage(w, m, kTimeout) != shm::Error::Ok) return 6;
                if (m.request_id != i || m.body.size() != size) return 7;
            }
            return proto::sendMessage(w, kAck, 0, n, {}, {}, kTimeout) == shm::Error::Ok ? 0 : 8;
        });
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < n; ++i)
            if (proto::sendMessage(sup, kData, 0, i, {}, payload, kTimeout) != shm::Error::Ok) die("shm stream send");
        proto::Message ack;
        if (proto::receiveMessage(sup, ack, kTimeout) != shm::Error::Ok || ack.kind != kAck) die("shm ack");
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        if (waitChild(peer.pid) != 0) die("shm sink child failed");
        r.msgs_per_s = double(n) / secs;
        r.oneway_counters = countersOf(sup);
    }
    return r;
}

// --- unix socketpair -------------------------------------------------------------------

bool writeAll(int fd, const void* a, std::size_t an, const void* b, std::size_t bn) {
    iovec iov[2] = {{const_cast<void*>(a), an}, {const_cast<void*>(b), bn}};
    int idx = 0;
    while (idx < 2) {
        const ssize_t w = ::writev(fd, iov + idx, 2 - idx);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        std::size_t left = std::size_t(w);
        while (idx < 2 && left >= iov[idx].iov_len) {
            left -= iov[idx].iov_len;
            ++idx;
        }
        if (idx < 2) {
            iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + left;
            iov[idx].iov_len -= left;
        }
    }
    return true;
}

// Buffered reader of length-prefixed messages (u64 length then bytes).
class Reader {
public:
    explicit Reader(int fd) : fd_(fd), buf_(256 * 1024) {}
    bool next(std::vector<std::byte>& out) {
        std::uint64_t len = 0;
        if (!take(&len, sizeof len)) return false;
        out.resize(len);
        return take(out.data(), len);
    }

private:
    bool take(void* dst, std::size_t n) {
        auto* d = static_cast<std::byte*>(dst);
        while (n > 0) {
            if (pos_ == end_) {
                const ssize_t r = ::read(fd_, buf_.data(), buf_.size());
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) return false;
                pos_ = 0;
                end_ = std::size_t(r);
            }
            const std::size_t k = std::min(n, end_ - pos_);
            std::memcpy(d, buf_.data() + pos_, k);
            pos_ += k;
            d += k;
            n -= k;
        }
        return true;
    }
    int fd_;
    std::vector<std::byte> buf_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
};

// The child runs `body` on its end of a socketpair; the parent keeps the other end.
template <typename F>
Peer forkSocketPeer(F body) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
    const pid_t pid = ::fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        pinTo(g_options->child_cpu);
        ::close(sv[0]);
        ::_exit(body(sv[1]));
    }
    const UniqueFd child_end(sv[1]);
    return Peer{pid, UniqueFd(sv[0])};
}

Result udsRun(const Options& o, std::size_t size) {
    Result r;
    std::vector<std::byte> payload(size, std::byte{0x5a});
    const std::uint64_t len = size;
    {
        const Peer peer = forkSocketPeer([](int fd) {
            Reader in(fd);
            std::vector<std::byte> m;
            while (in.next(m)) {
                const std::uint64_t n = m.size();
                if (!writeAll(fd, &n, sizeof n, m.data(), m.size())) return 4;
            }
            return 0;
        });
        const std::size_t n = roundTrips(o, size);
        const std::size_t warmup = n / 10 + 10;
        std::vector<double> ns;
        ns.reserve(n);
        Reader in(peer.fd.get());
        std::vector<std::byte> m;
        for (std::size_t i = 0; i < warmup + n; ++i) {
            const auto t0 = Clock::now();
            if (!writeAll(peer.fd.get(), &len, sizeof len, payload.data(), size)) die("uds write");
            if (!in.next(m) || m.size() != size) die("uds read");
            const auto t1 = Clock::now();
            if (i >= warmup)
                ns.push_back(double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
        }
        ::shutdown(peer.fd.get(), SHUT_WR);
        if (waitChild(peer.pid) != 0) die("uds echo child failed");
        r.rtt = percentiles(ns);
    }
    {
        const std::size_t n = oneWayCount(o, size);
        const Peer peer = forkSocketPeer([n, size](int fd) {
            Reader in(fd);
            std::vector<std::byte> m;
            for (std::size_t i = 0; i < n; ++i)
                if (!in.next(m) || m.size() != size) return 6;
            const std::uint64_t ack = 0;
            return writeAll(fd, &ack, sizeof ack, nullptr, 0) ? 0 : 7;
        });
        const auto t0 = Clock::now();
        for (std::size_t i = 0; i < n; ++i)
            if (!writeAll(peer.fd.get(), &len, sizeof len, payload.data(), size)) die("uds stream write");
        std::uint64_t ack = 1;
        if (::read(peer.fd.get(), &ack, sizeof ack) != ssize_t(sizeof ack)) die("uds ack");
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        if (waitChild(peer.pid) != 0) die("uds sink child failed");
        r.msgs_per_s = double(n) / secs;
    }
    return r;
}

std::vector<std::size_t> parseSizes(std::string_view s) {
    std::vector<std::size_t> out;
    while (!s.empty()) {
        const auto comma = s.find(',');
        std::string item(s.substr(0, comma));
        char* end = nullptr;
        std::size_t v = std::strtoull(item.c_str(), &end, 10);
        if (end != nullptr && (*end == 'k' || *end == 'K'))
            v *= 1024, ++end;
        else if (end != nullptr && (*end == 'm' || *end == 'M'))
            v *= 1024 * 1024, ++end;
        if (item.empty() || end == nullptr || *end != '\0') die("bad --sizes (e.g. 64,1k,64k,1m)");
        out.push_back(v);
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return out;
}

std::string human(std::size_t n) {
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0) return std::to_string(n >> 20) + " MiB";
    if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
    return std::to_string(n) + " B";
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) die("missing option value");
            return argv[++i];
        };
        if (a == "--iterations")
            o.iterations = std::strtoull(std::string(value()).c_str(), nullptr, 10);
        else if (a == "--messages")
            o.messages = std::strtoull(std::string(value()).c_str(), nullptr, 10);
        else if (a == "--sizes")
            o.sizes = parseSizes(value());
        else if (a == "--ring-bytes")
            o.ring_bytes = std::strtoull(std::string(value()).c_str(), nullptr, 10);
        else if (a == "--spin-us")
            o.spin = std::chrono::microseconds(std::strtoll(std::string(value()).c_str(), nullptr, 10));
        else if (a == "--pin") {
            const std::string v(value());
            if (std::sscanf(v.c_str(), "%d,%d", &o.parent_cpu, &o.child_cpu) != 2) die("bad --pin (e.g. 0,1)");
        } else {
            std::printf(
                "usage: buntime-ipc-bench [--iterations N] [--messages N] [--sizes 64,1k,64k,1m]\n"
                "                         [--ring-bytes N] [--spin-us N] [--pin PARENT_CPU,CHILD_CPU]\n");
            return a == "--help" ? 0 : 2;
        }
    }
    if (o.iterations == 0 || o.messages == 0 || o.sizes.empty()) die("nothing to measure");
    g_options = &o;
    pinTo(o.parent_cpu);

    std::printf("buntime-ipc-bench: ring %zu B, spin %lld us, round trips %zu (<=1 KiB), one-way up to %zu msgs\n",
                o.ring_bytes, static_cast<long long>(o.spin.count() / 1000), o.iterations, o.messages);
    std::printf("%-8s | %10s %10s | %10s %10s | %9s | %12s %12s | %9s\n", "payload", "shm p50us", "shm p99us",
                "uds p50us", "uds p99us", "p50 ratio", "shm msg/s", "uds msg/s", "tput x");
    std::vector<std::pair<std::size_t, Result>> shm_results;
    std::vector<std::string> bars;
    for (std::size_t size : o.sizes) {
        const Result s = shmRun(o, size);
        const Result u = udsRun(o, size);
        std::printf("%-8s | %10.2f %10.2f | %10.2f %10.2f | %9.3f | %12.0f %12.0f | %9.2f\n", human(size).c_str(),
                    s.rtt.p50_us, s.rtt.p99_us, u.rtt.p50_us, u.rtt.p99_us, s.rtt.p50_us / u.rtt.p50_us, s.msgs_per_s,
                    u.msgs_per_s, s.msgs_per_s / u.msgs_per_s);
        std::fflush(stdout);
        shm_results.emplace_back(size, s);
        if (size == 1024) {
            char line[256];
            const double ratio = s.rtt.p50_us / u.rtt.p50_us;
            std::snprintf(line, sizeof line, "1 KiB round-trip p50 shm/uds = %.3f (bar <= 0.5): %s", ratio,
                          ratio <= 0.5 ? "met" : "NOT met");
            bars.emplace_back(line);
            std::snprintf(line, sizeof line, "1 KiB one-way shm = %.0f msg/s (bar >= 1000000): %s", s.msgs_per_s,
                          s.msgs_per_s >= 1e6 ? "met" : "NOT met");
            bars.emplace_back(line);
        }
    }
    std::printf(
        "\nshm doorbells (both rings): wakeups = bells rung to a sleeping consumer, spin hits = data found "
        "while spinning\n");
    std::printf("%-8s | %-8s | %10s %10s %10s %12s\n", "payload", "run", "wakeups", "spin hits", "sleeps",
                "full stalls");
    for (const auto& [size, s] : shm_results) {
        for (const auto& [run, c] : {std::pair{"rtt", s.rtt_counters}, std::pair{"one-way", s.oneway_counters}})
            std::printf("%-8s | %-8s | %10llu %10llu %10llu %12llu\n", human(size).c_str(), run,
                        static_cast<unsigned long long>(c.wakeups), static_cast<unsigned long long>(c.spin_hits),
                        static_cast<unsigned long long>(c.sleeps), static_cast<unsigned long long>(c.full_stalls));
    }
    if (!bars.empty()) std::printf("\n");
    for (const auto& b : bars) std::printf("%s\n", b.c_str());
    return 0;
}
