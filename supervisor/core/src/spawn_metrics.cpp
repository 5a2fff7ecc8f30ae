// SPDX-License-Identifier: MIT
// The spawn-to-ready histogram (see spawn_metrics.h).
#include "spawn_metrics.h"

#include <algorithm>
#include <cmath>

namespace buntime::supervisor {

std::string_view spawnPathName(SpawnPath path) noexcept { return path == SpawnPath::Fork ? "fork" : "exec"; }

void SpawnMetrics::observeSpawn(std::string_view kind, SpawnPath path, double seconds) {
    if (!(seconds > 0)) seconds = 0;  // NaN too
    auto& s = series_[{std::string(spawnPathName(path)), std::string(kind)}];
    // le is inclusive: an observation equal to a bound belongs to that bucket.
    const auto bound = std::lower_bound(kBucketSeconds.begin(), kBucketSeconds.end(), seconds);
    if (bound != kBucketSeconds.end()) ++s.in_bucket[static_cast<std::size_t>(bound - kBucketSeconds.begin())];
    ++s.count;
    s.sum += seconds;
}

std::vector<admin::SpawnSeriesView> SpawnMetrics::view() const {
    std::vector<admin::SpawnSeriesView> out;
    out.reserve(series_.size());
    for (const auto& [labels, s] : series_) {
        admin::SpawnSeriesView v;
        v.path = labels.first;
        v.kind = labels.second;
        v.count = s.count;
        v.sum = s.sum;
        v.buckets.reserve(kBucketSeconds.size());
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kBucketSeconds.size(); ++i) {
            cumulative += s.in_bucket[i];
            v.buckets.push_back({kBucketSeconds[i], cumulative});
        }
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace buntime::supervisor
