// SPDX-License-Identifier: MIT
// Spawn-to-ready percentiles from two snapshots of the supervisor's spawn histogram
// (admin::MetricsView::worker_spawn_seconds, Prometheus buntime_worker_spawn_seconds).
#pragma once

#include <buntime/admin/schema.h>

#include <cstdint>
#include <map>
#include <vector>

#include "buntime/harness/result.h"

namespace buntime::harness {

// Per spawn path, the observations made between `before` and `after` (kinds summed), with
// p50 and p99; paths without a new observation are left out. Sorted by path.
std::vector<SpawnToReady> spawnToReady(const std::vector<admin::SpawnSeriesView>& before,
                                       const std::vector<admin::SpawnSeriesView>& after);

// The q-quantile (0..1) of `count` observations in cumulative buckets (upper bound → count),
// interpolated linearly within its bucket as Prometheus's histogram_quantile does (the first
// bucket starts at 0). A rank past the last finite bound gives that bound; 0 when count is 0.
double bucketQuantile(const std::map<double, std::uint64_t>& cumulative, std::uint64_t count, double q);

}  // namespace buntime::harness
