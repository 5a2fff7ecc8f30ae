// SPDX-License-Identifier: MIT
// buntime-spawn-bench: the machine's process-creation ceiling, spawn+reap of /bin/true per
// spawn method, and buntime-worker spawn-to-ready (hello app), all measured in one run.
//
// Usage: buntime-spawn-bench [N=500] [parent-MiB=0]
// parent-MiB touches that much heap first, to show how fork's cost grows with the parent.
// Env: SPAWN_BENCH_WORKERS  comma-separated buntime-worker binaries to compare, in alternating
//                           rounds (default: the one built with this bench; "none" skips);
//      SPAWN_BENCH_APP_DIR  the app they load (default: the built examples/apps/hello);
//      SPAWN_BENCH_READY_N  worker spawns per binary (default 200);
//      SPAWN_BENCH_CEILING_MS  how long each ceiling measurement runs (default 1000).
// Per worker binary it prints spawn-to-ready p50/p99 (from before the channel exists to the
// Ready message, as the supervisor counts it) and the CPU time and page faults of one worker
// over its whole life (start, Ready, Terminate, exit): the two do not blur under load as
// wall time does. The ceiling is the better of one process forking minimal children (fork,
// _exit, reap) as fast as it can and one such process per core at once (summed).
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "buntime/proc/process.h"

#ifdef BUNTIME_SPAWN_BENCH_WORKER
#include "buntime/proto/control.h"
#include "buntime/proto/launch.h"
#include "buntime/proto/messages.h"
#include "buntime/proto/stream.h"
#include "buntime/shm/channel.h"
#endif

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Time spent inside the spawn call itself: what an event loop would be blocked for.
double g_inSpawnSecs = 0;

struct SpawnTimer {
    Clock::time_point start = Clock::now();
    ~SpawnTimer() { g_inSpawnSecs += secondsSince(start); }
};

// Seconds for n spawns, or a negative value on failure.
double timeOnce(int n, const std::function<bool()>& once) {
    auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
        if (!once()) return -1;
    }
    return secondsSince(start);
}

bool viaProcess(buntime::proc::SpawnMethod method) {
    buntime::proc::SpawnOptions o;
    o.executable = "/bin/true";
    o.method = method;
    auto p = [&] {
        SpawnTimer t;
        return buntime::proc::Process::spawn(o);
    }();
    if (!p) {
        std::fprintf(stderr, "%s\n", p.error().message.c_str());
        return false;
    }
    auto s = p->wait();
    return s.exited() && s.code == 0;
}

bool viaPosixSpawn() {
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    pid_t pid;
    int rc;
    {
        SpawnTimer t;
        rc = posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ);
    }
    if (rc != 0) return false;
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// --- process-creation ceiling -------------------------------------------------------------

// fork() a child that only _exit()s, reap it; as many as fit before `until`. -1 on failure.
long forkReapUntil(Clock::time_point until) {
    long n = 0;
    while (Clock::now() < until) {
        const pid_t pid = ::fork();
        if (pid < 0) return -1;
        if (pid == 0) ::_exit(0);
        int status = 0;
        if (::waitpid(pid, &status, 0) != pid) return -1;
        ++n;
    }
    return n;
}

double cpuSeconds(int who) {
    rusage u{};
    ::getrusage(who, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Page faults of reaped children so far: a start cost that, unlike time, load does not blur.
long minorFaults(int who) {
    rusage u{};
    ::getrusage(who, &u);
    return u.ru_minflt;
}

struct Ceiling {
    double single_per_sec = 0;    // one process forking alone
    double single_cpu_us = 0;     // CPU (parent + children) per fork+reap when alone
    double parallel_per_sec = 0;  // `forkers` processes at once, summed
    unsigned forkers = 0;
    double best() const { return std::max(single_per_sec, parallel_per_sec); }
};

// (a) this process alone; (b) one forking process per core, started together, summed.
bool measureCeiling(std::chrono::milliseconds window, Ceiling& c) {
    const double cpu0 = cpuSeconds(RUSAGE_SELF) + cpuSeconds(RUSAGE_CHILDREN);
    const auto start = Clock::now();
    const long alone = forkReapUntil(start + window);
    const double wall = secondsSince(start);
    if (alone <= 0) return false;
    c.single_per_sec = static_cast<double>(alone) / wall;
    c.single_cpu_us = 1e6 * (cpuSeconds(RUSAGE_SELF) + cpuSeconds(RUSAGE_CHILDREN) - cpu0) / static_cast<double>(alone);

    c.forkers = std::max(1u, std::thread::hardware_concurrency());
    int go[2], counts[2];
    if (::pipe(go) != 0 || ::pipe(counts) != 0) return false;
    std::vector<pid_t> forkers;
    for (unsigned i = 0; i < c.forkers; ++i) {
        const pid_t pid = ::fork();
        if (pid < 0) break;
        if (pid == 0) {
            ::close(go[1]);
            ::close(counts[0]);
            std::int64_t until_ns = 0;  // the start signal carries the shared deadline
            if (::read(go[0], &until_ns, sizeof until_ns) != sizeof until_ns) ::_exit(1);
            const long n = forkReapUntil(Clock::time_point(Clock::duration(until_ns)));
            const std::int64_t out = n;
            ::_exit(::write(counts[1], &out, sizeof out) == sizeof out ? 0 : 1);
        }
        forkers.push_back(pid);
    }
    ::close(go[0]);
    ::close(counts[1]);
    // Every forker starts now and stops at the same deadline.
    const auto par_start = Clock::now() + 20ms;
    const std::int64_t until_ns =
        std::chrono::duration_cast<Clock::duration>((par_start + window).time_since_epoch()).count();
    bool ok = forkers.size() == c.forkers;
    for (std::size_t i = 0; i < forkers.size(); ++i)  // atomic writes: one deadline per reader
        ok = ::write(go[1], &until_ns, sizeof until_ns) == sizeof until_ns && ok;
    ::close(go[1]);
    std::int64_t total = 0;
    for (std::size_t i = 0; i < forkers.size(); ++i) {
        std::int64_t n = 0;
        if (::read(counts[0], &n, sizeof n) != sizeof n || n < 0) ok = false;
        total += n;
    }
    ::close(counts[0]);
    for (pid_t pid : forkers) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    const double par_wall = std::chrono::duration<double>(window).count();
    c.parallel_per_sec = static_cast<double>(total) / par_wall;
    return ok;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

#ifdef BUNTIME_SPAWN_BENCH_WORKER
// --- buntime-worker spawn-to-ready ----------------------------------------------------------

// Spawns `worker` as the supervisor does (channel, argv, env, clone+vfork), waits for Ready,
// then asks it to stop and reaps it. Returns seconds from before the channel exists to Ready,
// or a negative value on failure.
double spawnToReady(const std::string& worker, const std::string& app_dir) {
    namespace shm = buntime::shm;
    namespace proto = buntime::proto;
    const auto start = Clock::now();
    auto created = shm::Channel::create(shm::ChannelConfig{});
    if (!created) {
        std::fprintf(stderr, "Channel::create failed\n");
        return -1;
    }
    shm::Channel channel = std::move(created).value();
    const shm::ChannelFds fds = channel.fds();
    proto::WorkerLaunch launch;
    launch.app_dir = app_dir;
    launch.name = "hello";
    launch.version = "1.0.0";
    launch.threads = 1;
    buntime::proc::SpawnOptions o;
    o.executable = worker;
    o.argv = proto::toArgv(launch, worker);
    for (char** e = environ; *e; ++e) {
        if (!proto::isSupervisorOnly(*e)) o.envp.emplace_back(*e);
    }
    o.envp.push_back(proto::channelEnvEntry(fds));
    o.stderr_fd = buntime::proc::kDevNull;  // its info lines would drown the table
    o.pass_fds = {fds.segment, fds.to_worker_data, fds.to_worker_space, fds.to_supervisor_data,
                  fds.to_supervisor_space};
    auto p = buntime::proc::Process::spawn(o);
    if (!p) {
        std::fprintf(stderr, "%s\n", p.error().message.c_str());
        return -1;
    }
    channel.setPeerPidfd(p->pidfd());
    proto::Message ready;
    const auto e = proto::receiveMessage(channel, ready, 10s);
    const double secs = secondsSince(start);
    if (e != shm::Error::Ok || ready.kind != proto::toWire(proto::Kind::Ready)) {
        std::fprintf(stderr, "%s did not become ready (app dir %s): %.*s\n", worker.c_str(), app_dir.c_str(),
                     int(ready.head.size()), reinterpret_cast<const char*>(ready.head.data()));
        return -1;
    }
    const std::string grace = proto::encodeTerminate(std::chrono::milliseconds(1000));
    channel.send(proto::frame(proto::Kind::Terminate, 0, proto::bytesOf(grace)), 1s);
    const auto status = p->wait();
    return status.exited() && status.code == 0 ? secs : -1;
}

std::vector<std::string> splitCommas(const std::string& s) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at <= s.size()) {
        const std::size_t comma = std::min(s.find(',', at), s.size());
        if (comma > at) out.push_back(s.substr(at, comma - at));
        at = comma + 1;
    }
    return out;
}

// One line per worker binary; false when a spawn failed.
bool benchWorkers(const Ceiling& ceiling) {
    const char* list = std::getenv("SPAWN_BENCH_WORKERS");
    const std::vector<std::string> workers = splitCommas(list ? list : BUNTIME_SPAWN_BENCH_WORKER);
    if (workers.empty() || workers.front() == "none") return true;
    const char* dir = std::getenv("SPAWN_BENCH_APP_DIR");
    const std::string app_dir = dir ? dir : BUNTIME_SPAWN_BENCH_APP_DIR;
    const int n = std::getenv("SPAWN_BENCH_READY_N") ? std::atoi(std::getenv("SPAWN_BENCH_READY_N")) : 200;
    constexpr int kRounds = 10;
    const int per_round = std::max(1, n / kRounds);
    std::vector<std::vector<double>> secs(workers.size());
    std::vector<double> cpu_us(workers.size(), 0);
    std::vector<long> faults(workers.size(), 0);
    for (std::size_t i = 0; i < workers.size(); ++i) {
        if (spawnToReady(workers[i], app_dir) < 0) return false;  // warm the page cache
    }
    for (int r = 0; r < kRounds; ++r) {
        for (std::size_t i = 0; i < workers.size(); ++i) {
            const double cpu0 = cpuSeconds(RUSAGE_CHILDREN);
            const long faults0 = minorFaults(RUSAGE_CHILDREN);
            for (int k = 0; k < per_round; ++k) {
                const double s = spawnToReady(workers[i], app_dir);
                if (s < 0) return false;
                secs[i].push_back(s);
            }
            cpu_us[i] += 1e6 * (cpuSeconds(RUSAGE_CHILDREN) - cpu0);
            faults[i] += minorFaults(RUSAGE_CHILDREN) - faults0;
        }
    }
    const double fork_reap_us = 1e6 / ceiling.single_per_sec;
    std::printf("\nbuntime-worker spawn-to-ready (%s), %d rounds x %d per binary, clone+vfork+exec:\n", app_dir.c_str(),
                kRounds, per_round);
    for (std::size_t i = 0; i < workers.size(); ++i) {
        const double p50 = percentile(secs[i], 0.5) * 1e6, p99 = percentile(secs[i], 0.99) * 1e6;
        const double starts = static_cast<double>(secs[i].size());
        std::printf(
            "  p50 %7.0f us  p99 %7.0f us  worker CPU %6.0f us and %5.0f page faults per start  p50 = %.1fx "
            "fork+reap  %s\n",
            p50, p99, cpu_us[i] / starts, static_cast<double>(faults[i]) / starts, p50 / fork_reap_us,
            workers[i].c_str());
    }
    return true;
}
#endif

}  // namespace

int main(int argc, char** argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 500;
    long mib = argc > 2 ? std::atol(argv[2]) : 0;
    if (n <= 0 || mib < 0) {
        std::fprintf(stderr, "usage: %s [N] [parent-MiB]\n", argv[0]);
        return 2;
    }
    std::vector<char> ballast(static_cast<std::size_t>(mib) << 20);
    for (std::size_t i = 0; i < ballast.size(); i += 4096) ballast[i] = 1;  // make it resident

    const char* window_env = std::getenv("SPAWN_BENCH_CEILING_MS");
    const std::chrono::milliseconds window(window_env ? std::max(50, std::atoi(window_env)) : 1000);
    Ceiling ceiling;
    if (!measureCeiling(window, ceiling)) {
        std::fprintf(stderr, "process-creation ceiling: fork or waitpid failed: %s\n", std::strerror(errno));
        return 1;
    }
    std::printf("process-creation ceiling: %.0f processes/s (fork, _exit, reap; parent ballast %ld MiB)\n",
                ceiling.best(), mib);
    std::printf("  one process alone:    %6.0f /s  = %6.1f us wall per fork+reap, %6.1f us CPU\n",
                ceiling.single_per_sec, 1e6 / ceiling.single_per_sec, ceiling.single_cpu_us);
    std::printf("  %u processes at once: %6.0f /s in total\n\n", ceiling.forkers, ceiling.parallel_per_sec);

    struct Method {
        const char* name;
        std::function<bool()> once;
        std::vector<double> rates;
        double inSpawnSecs = 0;
    };
    std::vector<Method> methods = {
        {"clone(CLONE_VM|VFORK)", [] { return viaProcess(buntime::proc::SpawnMethod::CloneVfork); }, {}},
        {"fork+exec", [] { return viaProcess(buntime::proc::SpawnMethod::Fork); }, {}},
        {"posix_spawn (no pidfd)", viaPosixSpawn, {}},
    };
    // Rounds interleave the methods so background noise hits all of them alike.
    constexpr int kRounds = 5;
    int perRound = n / kRounds > 0 ? n / kRounds : 1;
    for (int r = 0; r < kRounds; ++r) {
        for (auto& m : methods) {
            g_inSpawnSecs = 0;
            double secs = timeOnce(perRound, m.once);
            m.inSpawnSecs += g_inSpawnSecs;
            if (secs < 0) {
                std::fprintf(stderr, "%s: spawn failed\n", m.name);
                return 1;
            }
            m.rates.push_back(perRound / secs);
        }
    }
    std::printf("spawn+reap of /bin/true: %d rounds x %d per method, parent ballast %ld MiB\n", kRounds, perRound, mib);
    for (auto& m : methods) {
        std::sort(m.rates.begin(), m.rates.end());
        double median = m.rates[m.rates.size() / 2];
        std::printf(
            "%-24s median %6.0f spawns/s (min %.0f, max %.0f); %8.1f us/spawn, of which %8.1f us in the "
            "spawn call\n",
            m.name, median, m.rates.front(), m.rates.back(), 1e6 / median, 1e6 * m.inSpawnSecs / (kRounds * perRound));
    }
#ifdef BUNTIME_SPAWN_BENCH_WORKER
    std::fflush(stdout);
    if (!benchWorkers(ceiling)) return 1;
#endif
    return 0;
}
