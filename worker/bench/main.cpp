// SPDX-License-Identifier: MIT
// buntime-worker-bench: spawns buntime-worker with the hello app and keeps 1, 8 and 50
// requests in flight over the shm transport (no HTTP); prints requests/s and p50/p99 µs.
//
// usage: buntime-worker-bench [HELLO_APP_DIR]   env: BENCH_SECONDS (default 2), BENCH_DEPTHS (1,8,50)
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "buntime/base/clock.h"
#include "buntime/proto/control.h"
#include "buntime/proto/launch.h"
#include "buntime/proto/messages.h"
#include "buntime/proto/stream.h"
#include "buntime/shm/channel.h"

extern char** environ;

namespace {

using namespace buntime;
using base::Clock;
using namespace std::chrono_literals;

pid_t spawnWorker(const shm::Channel& channel, const std::string& app_dir) {
    const shm::ChannelFds fds = channel.fds();
    proto::WorkerLaunch launch;
    launch.app_dir = app_dir;
    launch.name = "hello";
    launch.version = "1.0.0";
    launch.threads = 1;
    launch.concurrency = 1000;
    std::vector<std::string> args = proto::toArgv(launch, BUNTIME_WORKER_PATH);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        if (!proto::isSupervisorOnly(*e)) env.emplace_back(*e);
    }
    env.push_back(proto::channelEnvEntry(fds));
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int keep[] = {fds.segment, fds.to_worker_data, fds.to_worker_space, fds.to_supervisor_data,
                        fds.to_supervisor_space};
    pid_t pid = ::fork();
    if (pid == 0) {
        for (int fd : keep) ::fcntl(fd, F_SETFD, 0);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    return pid;
}

struct Result {
    double rps = 0;
    double p50_us = 0;
    double p99_us = 0;
    std::uint64_t errors = 0;
};

// Keeps `depth` requests in flight for `seconds` (after a warm-up) from one thread.
Result run(shm::Channel& channel, std::span<const std::byte> head, std::size_t depth, double seconds,
           std::uint64_t& next_id) {
    std::vector<Clock::time_point> sent_at(1 << 16);
    const std::size_t mask = sent_at.size() - 1;
    std::vector<std::uint32_t> latencies_ns;
    latencies_ns.reserve(4'000'000);
    Result result;
    const auto warm_end = Clock::now() + 300ms;
    const auto end = warm_end + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::size_t in_flight = 0;
    std::uint64_t completed = 0;
    bool measuring = false;
    Clock::time_point measure_start;
    const auto kResp = proto::toWire(proto::Kind::Response);
    for (;;) {
        auto now = Clock::now();
        if (!measuring && now >= warm_end) {
            measuring = true;
            measure_start = now;
            completed = 0;
            latencies_ns.clear();
        }
        const bool stop = now >= end;
        if (stop && in_flight == 0) break;
        while (!stop && in_flight < depth) {
            const std::uint64_t id = next_id;
            if (channel.trySend(proto::frame(proto::Kind::Request, id, head)) != shm::Error::Ok) break;
            sent_at[id & mask] = Clock::now();
            ++next_id;
            ++in_flight;
        }
        shm::FrameView frame;
        shm::Error e = channel.tryReceive(frame);
        if (e == shm::Error::WouldBlock) e = channel.receive(frame, 5s);
        if (e != shm::Error::Ok) {
            std::fprintf(stderr, "receive failed: %.*s\n", int(shm::toString(e).size()), shm::toString(e).data());
            std::exit(1);
        }
        do {
            const auto done = Clock::now();
            if (frame.header.kind != kResp || proto::hasMore(frame.header) || frame.body.size() != 18) ++result.errors;
            const auto lat = done - sent_at[frame.header.request_id & mask];
            channel.release();
            --in_flight;
            if (measuring && done < end) {
                ++completed;
                latencies_ns.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(lat).count(), UINT32_MAX)));
            }
        } while (channel.tryReceive(frame) == shm::Error::Ok);
    }
    const double elapsed = std::chrono::duration<double>(end - measure_start).count();
    result.rps = static_cast<double>(completed) / elapsed;
    if (!latencies_ns.empty()) {
        auto pct = [&](double p) {
            std::size_t k = static_cast<std::size_t>(p * static_cast<double>(latencies_ns.size() - 1));
            std::nth_element(latencies_ns.begin(), latencies_ns.begin() + static_cast<std::ptrdiff_t>(k),
                             latencies_ns.end());
            return latencies_ns[k] / 1000.0;
        };
        result.p50_us = pct(0.50);
        result.p99_us = pct(0.99);
    }
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string app_dir = argc > 1 ? argv[1] : BUNTIME_HELLO_APP_DIR;
    const double seconds = std::getenv("BENCH_SECONDS") ? std::atof(std::getenv("BENCH_SECONDS")) : 2.0;
    std::vector<std::size_t> depths{1, 8, 50};
    if (const char* d = std::getenv("BENCH_DEPTHS")) {
        depths.clear();
        for (const char* p = d; *p;) {
            depths.push_back(std::strtoul(p, const_cast<char**>(&p), 10));
            while (*p == ',') ++p;
        }
    }

    auto created = shm::Channel::create(shm::ChannelConfig{});
    if (!created) {
        std::fprintf(stderr, "Channel::create failed\n");
        return 1;
    }
    shm::Channel channel = std::move(created).value();
    const pid_t pid = spawnWorker(channel, app_dir);
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) channel.setPeerPidfd(pidfd);

    proto::Message ready;
    if (proto::receiveMessage(channel, ready, 10s) != shm::Error::Ok ||
        ready.kind != proto::toWire(proto::Kind::Ready)) {
        std::fprintf(stderr, "worker did not become ready (app dir %s): %.*s\n", app_dir.c_str(),
                     int(ready.head.size()), reinterpret_cast<const char*>(ready.head.data()));
        ::kill(pid, SIGKILL);
        return 1;
    }

    proto::RequestHead h;
    h.method = "GET";
    h.target = "/hello/";
    h.path = "/";
    h.base = "/hello";
    h.request_id = "bench";
    h.headers = {{"host", "127.0.0.1"}, {"user-agent", "buntime-worker-bench"}};
    h.content_length = 0;
    const auto head = proto::encode(h);

    std::printf("buntime-worker-bench: hello over shm, one worker, %.1f s per depth\n", seconds);
    std::printf("%10s %14s %10s %10s %8s\n", "in-flight", "requests/s", "p50 us", "p99 us", "errors");
    std::uint64_t next_id = 1;
    for (std::size_t depth : depths) {
        Result r = run(channel, head, depth, seconds, next_id);
        std::printf("%10zu %14.0f %10.1f %10.1f %8llu\n", depth, r.rps, r.p50_us, r.p99_us,
                    static_cast<unsigned long long>(r.errors));
        std::fflush(stdout);
    }
    const auto& out = channel.outboundCounters();
    const auto& in = channel.inboundCounters();
    std::printf(
        "request ring: %llu frames, %llu wakeups; response ring: %llu frames, %llu wakeups\n",
        static_cast<unsigned long long>(out.messages.load()), static_cast<unsigned long long>(out.wakeups.load()),
        static_cast<unsigned long long>(in.messages.load()), static_cast<unsigned long long>(in.wakeups.load()));

    const std::string grace = proto::encodeTerminate(std::chrono::milliseconds(1000));
    channel.send(proto::frame(proto::Kind::Terminate, 0, proto::bytesOf(grace)), 1s);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return 0;
}
