// SPDX-License-Identifier: MIT
// buntime-spawn-bench: spawns and reaps N /bin/true per method and prints spawns per second.
//
// Usage: buntime-spawn-bench [N=500] [parent-MiB=0]
// parent-MiB touches that much heap first, to show how fork's cost grows with the parent.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "buntime/proc/process.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// Time spent inside the spawn call itself: what an event loop would be blocked for.
double g_inSpawnSecs = 0;

struct SpawnTimer {
    Clock::time_point start = Clock::now();
    ~SpawnTimer() { g_inSpawnSecs += std::chrono::duration<double>(Clock::now() - start).count(); }
};

// Seconds for n spawns, or a negative value on failure.
double timeOnce(int n, const std::function<bool()>& once) {
    auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
        if (!once()) return -1;
    }
    return std::chrono::duration<double>(Clock::now() - start).count();
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
    return 0;
}
