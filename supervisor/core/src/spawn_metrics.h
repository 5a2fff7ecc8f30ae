// SPDX-License-Identifier: MIT
// Spawn-to-ready of every worker, as the histogram buntime_worker_spawn_seconds: one series
// per spawn path (exec, fork) and worker kind. Core loop only (not thread-safe).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "buntime/admin/schema.h"

namespace buntime::supervisor {

enum class SpawnPath {
    Exec,  // a new process that execs buntime-worker (or the app's own `app` executable)
    Fork,  // a child forked from the app's zygote
};
std::string_view spawnPathName(SpawnPath path) noexcept;  // "exec", "fork"

class SpawnMetrics {
public:
    // Upper bounds in seconds: 0.5 ms to 10 s, fine enough below 50 ms for p50/p99.
    static constexpr std::array<double, 22> kBucketSeconds = {0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075,
                                                              0.01,   0.015, 0.02,   0.03,  0.05,  0.075, 0.1,   0.15,
                                                              0.25,   0.5,   1.0,    2.5,   5.0,   10.0};

    // One worker became ready `seconds` after the decision to spawn it. `kind` is the launch
    // plan's (so, exec, static, js, command). A negative or NaN duration counts as 0.
    void observeSpawn(std::string_view kind, SpawnPath path, double seconds);

    // Every series observed so far, sorted by path name then kind, buckets cumulative.
    std::vector<admin::SpawnSeriesView> view() const;

private:
    struct Series {
        std::array<std::uint64_t, kBucketSeconds.size()> in_bucket{};  // not cumulative; beyond 10 s: none
        std::uint64_t count = 0;
        double sum = 0;
    };
    std::map<std::pair<std::string, std::string>, Series> series_;  // (path name, kind)
};

}  // namespace buntime::supervisor
