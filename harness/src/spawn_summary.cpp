// SPDX-License-Identifier: MIT
// Spawn-to-ready percentiles from the supervisor's spawn histogram (see spawn_summary.h).
#include "buntime/harness/spawn_summary.h"

#include <string>

namespace buntime::harness {

double bucketQuantile(const std::map<double, std::uint64_t>& cumulative, std::uint64_t count, double q) {
    if (count == 0 || cumulative.empty()) return 0;
    const double rank = q * static_cast<double>(count);
    double low = 0;
    std::uint64_t below = 0;
    for (const auto& [le, n] : cumulative) {
        if (static_cast<double>(n) >= rank && n > below)
            return low + (le - low) * (rank - static_cast<double>(below)) / static_cast<double>(n - below);
        low = le;
        below = n;
    }
    return low;  // in the +Inf bucket
}

std::vector<SpawnToReady> spawnToReady(const std::vector<admin::SpawnSeriesView>& before,
                                       const std::vector<admin::SpawnSeriesView>& after) {
    struct Delta {
        std::int64_t count = 0;
        std::map<double, std::int64_t> buckets;
    };
    std::map<std::string, Delta> paths;
    auto add = [&](const std::vector<admin::SpawnSeriesView>& series, std::int64_t sign) {
        for (const auto& s : series) {
            auto& d = paths[s.path];
            d.count += sign * static_cast<std::int64_t>(s.count);
            for (const auto& b : s.buckets) d.buckets[b.le] += sign * static_cast<std::int64_t>(b.count);
        }
    };
    add(after, 1);
    add(before, -1);
    std::vector<SpawnToReady> out;
    for (const auto& [path, d] : paths) {
        if (d.count <= 0) continue;  // nothing new (or the supervisor restarted: no fair delta)
        std::map<double, std::uint64_t> cumulative;
        for (const auto& [le, n] : d.buckets) cumulative[le] = n > 0 ? static_cast<std::uint64_t>(n) : 0;
        const auto count = static_cast<std::uint64_t>(d.count);
        out.push_back({path, count, 1000.0 * bucketQuantile(cumulative, count, 0.50),
                       1000.0 * bucketQuantile(cumulative, count, 0.99)});
    }
    return out;
}

}  // namespace buntime::harness
