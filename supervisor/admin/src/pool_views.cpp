// SPDX-License-Identifier: MIT
// Mapping of the pool's metrics and per-worker stats into the admin views.
#include "buntime/admin/pool_views.h"

#include <cmath>

namespace buntime::admin {

MetricsView metricsView(const pool::PoolMetrics& m) {
    MetricsView v;
    v.active_workers = m.active_workers;
    v.avg_response_time_ms = m.avg_response_time_ms;
    v.evictions = m.evictions;
    v.ephemeral_concurrency = m.ephemeral_concurrency;
    v.ephemeral_queue_depth = m.ephemeral_queue_depth;
    v.ephemeral_queue_limit = m.ephemeral_queue_limit;
    v.hit_rate = m.hit_rate;
    v.hits = m.hits;
    v.misses = m.misses;
    v.memory_usage_mb = m.memory_usage_mb;
    v.requests_per_second = m.requests_per_second;
    v.total_requests = m.total_requests;
    v.total_workers_created = m.total_workers_created;
    v.total_workers_failed = m.total_workers_failed;
    v.total_workers_retired = m.total_workers_retired;
    v.uptime_ms = m.uptime_ms;
    // The seed's requestsPerSecond: every request since start over the uptime, two decimals.
    if (m.uptime_ms > 0)
        v.requests_per_second_lifetime =
            std::round(static_cast<double>(m.total_requests) * 1000.0 / static_cast<double>(m.uptime_ms) * 100.0) /
            100.0;
    return v;
}

WorkerRow workerRow(const pool::WorkerStats& s) {
    WorkerRow row;
    row.key = s.key;
    const auto at = s.key.rfind('@');
    row.name = at == std::string::npos ? s.key : s.key.substr(0, at);
    row.version = at == std::string::npos ? "" : s.key.substr(at + 1);
    row.status = pool::toString(s.status);
    row.state = pool::toString(s.state);
    row.age_ms = s.age_ms;
    row.idle_ms = s.idle_ms;
    row.avg_response_time_ms = s.avg_response_time_ms;
    row.error_count = s.error_count;
    row.request_count = s.request_count;
    row.in_flight = s.in_flight;
    return row;
}

}  // namespace buntime::admin
