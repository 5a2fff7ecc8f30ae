// SPDX-License-Identifier: MIT
// Channels between two processes (fork) and two threads: the ring under stress both ways,
// peer death, and whole messages (proto/stream.h's blocking helpers) over real channels.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "buntime/base/unique_fd.h"
#include "buntime/proto/stream.h"
#include "channel_pair.h"
#include "rng.h"

using namespace buntime::shm;
using namespace buntime::shm::test;
namespace proto = buntime::proto;
using buntime::test::fill;
using buntime::test::fnv1a;
using buntime::test::Rng;

namespace {

// Word-wise checksum: cheap enough for millions of messages.
std::uint64_t checksum(std::span<const std::byte> d) {
    std::uint64_t h = 0x243F6A8885A308D3ull ^ d.size();
    std::size_t i = 0;
    for (; i + 8 <= d.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, d.data() + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    for (; i < d.size(); ++i) h = (h ^ std::uint64_t(d[i])) * 0x100000001B3ull;
    return h;
}

std::span<const std::byte> bytesOf(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

Outgoing frameOf(std::span<const std::byte> body, std::uint64_t id, std::uint16_t kind) {
    Outgoing f;
    f.kind = kind;
    f.request_id = id;
    f.body = body;
    return f;
}

buntime::base::UniqueFd pidfdOpen(pid_t pid) { return buntime::base::UniqueFd(int(::syscall(SYS_pidfd_open, pid, 0))); }

// Runs `child` in a forked process whose exit code is its result; the child gets its end
// of `sup` through Channel::open on the inherited fds and watches the parent.
template <typename F>
pid_t spawnWorker(Channel& sup, std::chrono::nanoseconds spin, F child) {
    const ChannelFds fds = sup.fds();
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    auto wrk = Channel::open(fds, spin);
    if (!wrk) ::_exit(90);
    if (wrk->watchParent() != Error::Ok) ::_exit(91);
    ::_exit(child(*wrk));
}

int waitExit(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

Channel makeSup(std::size_t ring_bytes, std::chrono::nanoseconds spin) {
    ChannelConfig cfg;
    cfg.ring_bytes = ring_bytes;
    cfg.spin = spin;
    cfg.generation = 3;
    auto c = Channel::create(cfg);
    if (!c) std::abort();
    return std::move(c).value();
}

// Sizes: mostly small, sometimes up to a whole frame; deterministic per (dir, seq).
std::size_t sizeOf(std::uint64_t dir, std::uint64_t seq, std::size_t max) {
    Rng r(dir * 1000003 + seq);
    const std::uint64_t x = r.next();
    if ((x & 1023) == 0) return std::size_t((x >> 10) % (max + 1));
    return std::size_t((x >> 10) % 600);
}

// Event-loop style duplex pump through trySend/tryReceive/armReadable/armWritable and poll:
// sends `count` messages of direction `out_dir` while receiving `count` of `in_dir`.
// Returns 0 or a failure code.
int pump(Channel& ch, std::uint64_t out_dir, std::uint64_t in_dir, std::uint64_t count, int peer_pidfd) {
    std::vector<std::byte> body;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    const std::size_t max = ch.maxPayload() - 8;
    auto build = [&] { fill(body, sizeOf(out_dir, sent, max), out_dir << 40 | sent); };
    if (count > 0) build();
    std::uint64_t sum = 0;
    bool peer_gone = false;
    while (sent < count || received < count) {
        bool progress = false;
        for (int batch = 0; sent < count && batch < 64; ++batch) {
            sum = checksum(body);
            Outgoing f;
            f.kind = 1;
            f.request_id = sent;
            f.head = {reinterpret_cast<const std::byte*>(&sum), 8};
            f.body = body;
            const Error e = ch.trySend(f);
            if (e == Error::WouldBlock) break;
            if (e != Error::Ok) return 10;
            ++sent;
            progress = true;
            if (sent < count) build();
        }
        for (int batch = 0; received < count && batch < 64; ++batch) {
            FrameView v;
            const Error e = ch.tryReceive(v);
            if (e == Error::WouldBlock) break;
            if (e != Error::Ok) return 20;
            if (v.header.request_id != received) return 21;  // loss or reordering
            if (v.head.size() != 8) return 22;
            std::uint64_t want;
            std::memcpy(&want, v.head.data(), 8);
            if (v.body.size() != sizeOf(in_dir, received, max)) return 23;
            if (checksum(v.body) != want) return 24;
            ch.release();
            ++received;
            progress = true;
        }
        if (progress) continue;
        if (peer_gone) return 31;  // the peer exited and nothing is left to read
        const bool wait_read = received < count && !ch.armReadable();
        const bool wait_write = sent < count && !ch.armWritable(8 + body.size());
        if ((received < count && !wait_read) || (sent < count && !wait_write)) continue;
        pollfd fds[3] = {{wait_read ? ch.inboundBell() : -1, POLLIN, 0},
                         {wait_write ? ch.outboundSpaceBell() : -1, POLLIN, 0},
                         {peer_pidfd, POLLIN, 0}};
        const int r = ::poll(fds, 3, 20000);
        if (r == 0) return 30;                      // hang: nobody rang for 20 s
        if (fds[2].revents != 0) peer_gone = true;  // drain what it published first
        if (fds[0].revents != 0) Channel::drainBell(ch.inboundBell());
        if (fds[1].revents != 0) Channel::drainBell(ch.outboundSpaceBell());
    }
    return 0;
}

}  // namespace

TEST_CASE("two processes exchange millions of random messages both ways without loss") {
    constexpr std::uint64_t kCount = 2'000'000;
    Channel sup = makeSup(256 * 1024, 0ns);
    const pid_t pid = spawnWorker(sup, 0ns, [](Channel& w) {
        // The worker's peer pidfd was opened by watchParent(); poll it through a fresh one.
        const auto parent = pidfdOpen(::getppid());
        return pump(w, 2, 1, kCount, parent.get());
    });
    REQUIRE(pid > 0);
    const auto pidfd = pidfdOpen(pid);
    REQUIRE(pidfd.valid());
    sup.setPeerPidfd(pidfd.get());
    const int result = pump(sup, 1, 2, kCount, pidfd.get());
    CHECK(result == 0);
    if (result != 0) ::kill(pid, SIGKILL);
    CHECK(waitExit(pid) == 0);
    CHECK(sup.outboundCounters().messages.load() == kCount);
    CHECK(sup.inboundCounters().messages.load() == kCount);
    MESSAGE("to_worker wakeups " << sup.outboundCounters().wakeups.load() << ", full stalls "
                                 << sup.outboundCounters().full_stalls.load());
}

TEST_CASE("blocking sendMessage/receiveMessage across processes: random sizes incl. chunked") {
    constexpr std::uint64_t kCount = 200'000;
    Channel sup = makeSup(64 * 1024, 5us);
    const pid_t pid = spawnWorker(sup, 5us, [](Channel& w) {
        std::vector<std::byte> body;
        proto::Message m;
        for (std::uint64_t i = 0; i < kCount; ++i) {
            Rng r(i);
            const std::uint64_t x = r.next();
            const std::size_t n = (x & 63) == 0 ? std::size_t(x % (3 * w.maxPayload())) : std::size_t(x % 2000);
            fill(body, n, i);
            const std::uint64_t sum = checksum(body);
            if (proto::sendMessage(w, 4, 0x20, i, {reinterpret_cast<const std::byte*>(&sum), 8}, body, 20s) !=
                Error::Ok)
                return 40;
            // Every 1000 messages wait for the parent's acknowledgement (exercises both bells).
            if (i % 1000 == 999) {
                if (proto::receiveMessage(w, m, 20s) != Error::Ok || m.request_id != i) return 41;
            }
        }
        return 0;
    });
    REQUIRE(pid > 0);
    const auto pidfd = pidfdOpen(pid);
    sup.setPeerPidfd(pidfd.get());
    proto::Message m;
    int bad = 0;
    for (std::uint64_t i = 0; i < kCount && bad == 0; ++i) {
        const Error e = proto::receiveMessage(sup, m, 20s);
        if (e != Error::Ok) {
            bad = 1;
            FAIL_CHECK("receiveMessage " << toString(e) << " at " << i);
            break;
        }
        std::uint64_t want = 0;
        if (m.head.size() == 8) std::memcpy(&want, m.head.data(), 8);
        if (m.request_id != i || m.kind != 4 || m.flags != 0x20 || checksum(m.body) != want) {
            bad = 2;
            FAIL_CHECK("message " << i << " damaged or out of order (got id " << m.request_id << ")");
        }
        if (i % 1000 == 999) REQUIRE(proto::sendMessage(sup, 5, 0, i, {}, {}, 20s) == Error::Ok);
    }
    if (bad != 0) ::kill(pid, SIGKILL);
    CHECK(waitExit(pid) == 0);
    const auto& c = sup.inboundCounters();
    MESSAGE("to_supervisor frames " << c.messages.load() << ", wakeups " << c.wakeups.load() << ", spin hits "
                                    << c.spin_hits.load() << ", sleeps " << c.sleeps.load());
    CHECK(c.messages.load() >= kCount);
    CHECK(c.wakeups.load() + c.spin_hits.load() > 0);
}

TEST_CASE("100 MB each way through a 256 KiB ring between two processes") {
    Channel sup = makeSup(256 * 1024, 20us);
    constexpr std::size_t kBytes = 100u << 20;
    const pid_t pid = spawnWorker(sup, 20us, [](Channel& w) {
        std::vector<std::byte> body;
        fill(body, kBytes, 1);
        if (proto::sendMessage(w, 2, 0, 1, bytesOf("up"), body, 60s) != Error::Ok) return 50;
        proto::Message m;
        if (proto::receiveMessage(w, m, 60s) != Error::Ok) return 51;
        fill(body, kBytes, 2);
        if (m.request_id != 2 || m.body != body) return 52;
        return 0;
    });
    REQUIRE(pid > 0);
    const auto pidfd = pidfdOpen(pid);
    sup.setPeerPidfd(pidfd.get());
    proto::Message m;
    REQUIRE(proto::receiveMessage(sup, m, 60s) == Error::Ok);
    std::vector<std::byte> body;
    fill(body, kBytes, 1);
    CHECK(m.request_id == 1);
    CHECK(m.body.size() == kBytes);
    CHECK(m.body == body);
    fill(body, kBytes, 2);
    CHECK(proto::sendMessage(sup, 2, 0, 2, {}, body, 60s) == Error::Ok);
    CHECK(waitExit(pid) == 0);
    CHECK(sup.outboundCounters().high_water.load() <= sup.ringCapacity());
}

TEST_CASE("messages larger than a frame are chunked and reassembled between threads") {
    ChannelPair p = makeChannelPair(256 * 1024, 20us);
    std::vector<std::byte> body;
    fill(body, 100u << 20, 77);
    const auto expect = fnv1a(body);
    const std::string head = "head-bytes";
    Error send_result = Error::System;
    std::thread producer([&] { send_result = proto::sendMessage(p.sup, 12, 0x10, 555, bytesOf(head), body, 60s); });
    proto::Message m;
    const Error e = proto::receiveMessage(p.wrk, m, 60s);
    producer.join();
    CHECK(send_result == Error::Ok);
    REQUIRE(e == Error::Ok);
    CHECK(m.kind == 12);
    CHECK(m.flags == 0x10);
    CHECK(m.request_id == 555);
    CHECK(std::string(reinterpret_cast<const char*>(m.head.data()), m.head.size()) == head);
    REQUIRE(m.body.size() == body.size());
    CHECK(fnv1a(m.body) == expect);
    CHECK(p.sup.outboundCounters().messages.load() > 100 * 1024 / 128);
    // Small messages are one frame and round-trip too.
    REQUIRE(proto::sendMessage(p.wrk, 1, 0, 9, {}, bytesOf("pong"), 1s) == Error::Ok);
    REQUIRE(proto::receiveMessage(p.sup, m, 1s) == Error::Ok);
    CHECK(m.body.size() == 4);
}

TEST_CASE("receiveMessage rejects other request ids, stray continuations and oversized bodies") {
    ChannelPair p = makeChannelPair(16 * 1024);
    std::vector<std::byte> body;
    fill(body, 20000, 3);
    proto::Message m;
    SUBCASE("stray continuation") {
        Outgoing f = frameOf(std::span(body).first(10), 1, proto::kContinuationKind);
        REQUIRE(p.sup.trySend(f) == Error::Ok);
        CHECK(proto::receiveMessage(p.wrk, m, 1s) == Error::BadLength);
    }
    SUBCASE("interleaved request id") {
        Outgoing first = frameOf(std::span(body).first(10), 1, 5);
        first.flags = proto::kFlagMore;
        REQUIRE(p.sup.trySend(first) == Error::Ok);
        Outgoing other = frameOf(std::span(body).first(10), 2, proto::kContinuationKind);
        REQUIRE(p.sup.trySend(other) == Error::Ok);
        CHECK(proto::receiveMessage(p.wrk, m, 1s) == Error::BadLength);
    }
    SUBCASE("max_body") {
        Outgoing first = frameOf(std::span(body).first(5000), 1, 5);
        first.flags = proto::kFlagMore;
        REQUIRE(p.sup.trySend(first) == Error::Ok);
        Outgoing next = frameOf(std::span(body).first(5000), 1, proto::kContinuationKind);
        REQUIRE(p.sup.trySend(next) == Error::Ok);
        CHECK(proto::receiveMessage(p.wrk, m, 1s, 8000) == Error::BadLength);
    }
    SUBCASE("timeout mid-message") {
        Outgoing first = frameOf(std::span(body).first(10), 1, 5);
        first.flags = proto::kFlagMore;
        REQUIRE(p.sup.trySend(first) == Error::Ok);
        CHECK(proto::receiveMessage(p.wrk, m, 20ms) == Error::Timeout);
    }
}

TEST_CASE("a writer killed with SIGKILL mid-message: the reader gets PeerDead, not a hang") {
    Channel sup = makeSup(256 * 1024, 10us);
    SUBCASE("killed by the reader after a few chunks") {
        const pid_t pid = spawnWorker(sup, 10us, [](Channel& w) {
            std::vector<std::byte> body;
            fill(body, 100u << 20, 9);
            proto::sendMessage(w, 2, 0, 1, {}, body, 600s);
            return 60;  // never reached: killed before the end
        });
        REQUIRE(pid > 0);
        const auto pidfd = pidfdOpen(pid);
        sup.setPeerPidfd(pidfd.get());
        FrameView v;
        for (int i = 0; i < 5; ++i) {
            REQUIRE(sup.receive(v, 30s) == Error::Ok);
            CHECK((v.header.flags & proto::kFlagMore) != 0);
            sup.release();
        }
        REQUIRE(::kill(pid, SIGKILL) == 0);
        Error e = Error::Ok;
        int after = 0;
        // Frames already published are delivered, then PeerDead; never a Timeout.
        while ((e = sup.receive(v, 60s)) == Error::Ok) {
            ++after;
            sup.release();
            REQUIRE(after < 100);
        }
        CHECK(e == Error::PeerDead);
        CHECK(waitExit(pid) == 1000 + SIGKILL);
    }
    SUBCASE("the writer dies by itself; receiveMessage returns PeerDead") {
        const pid_t pid = spawnWorker(sup, 10us, [](Channel& w) {
            std::vector<std::byte> body;
            fill(body, w.maxPayload(), 9);
            Outgoing f;
            f.kind = 2;
            f.flags = proto::kFlagMore;
            f.request_id = 7;
            f.body = body;
            if (w.send(f, 10s) != Error::Ok) return 70;
            f.kind = proto::kContinuationKind;
            if (w.send(f, 10s) != Error::Ok) return 71;
            ::raise(SIGKILL);
            return 72;
        });
        REQUIRE(pid > 0);
        const auto pidfd = pidfdOpen(pid);
        sup.setPeerPidfd(pidfd.get());
        proto::Message m;
        CHECK(proto::receiveMessage(sup, m, 60s) == Error::PeerDead);
        CHECK(waitExit(pid) == 1000 + SIGKILL);
    }
}

TEST_CASE("a worker whose supervisor dies gets PeerDead through watchParent") {
    // Become a subreaper so the orphaned worker is reparented to us and can be reaped.
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t middle = ::fork();
    REQUIRE(middle >= 0);
    if (middle == 0) {
        ::close(pipe_fds[0]);
        Channel sup = makeSup(16 * 1024, 0ns);
        const ChannelFds fds = sup.fds();
        const pid_t worker = ::fork();
        if (worker == 0) {
            auto w = Channel::open(fds, 10us);
            if (!w || w->watchParent() != Error::Ok) ::_exit(1);
            char ready = 'R';
            if (::write(pipe_fds[1], &ready, 1) != 1) ::_exit(2);
            FrameView v;
            const Error e = w->receive(v, 60s);
            const char verdict = e == Error::PeerDead ? 'D' : 'X';
            if (::write(pipe_fds[1], &verdict, 1) != 1) ::_exit(3);
            ::_exit(0);
        }
        ::pause();  // killed by the test
        ::_exit(0);
    }
    ::close(pipe_fds[1]);
    char c = 0;
    REQUIRE(::read(pipe_fds[0], &c, 1) == 1);
    CHECK(c == 'R');
    REQUIRE(::kill(middle, SIGKILL) == 0);
    CHECK(waitExit(middle) == 1000 + SIGKILL);
    pollfd pf{pipe_fds[0], POLLIN, 0};
    REQUIRE(::poll(&pf, 1, 60000) == 1);
    REQUIRE(::read(pipe_fds[0], &c, 1) == 1);
    CHECK(c == 'D');
    // Reap the reparented worker.
    int status = 0;
    CHECK(::wait(&status) > 0);
    ::close(pipe_fds[0]);
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}
