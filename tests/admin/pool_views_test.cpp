// SPDX-License-Identifier: MIT
// The mapping of pool::PoolMetrics and pool::WorkerStats into the admin views.
#include <doctest/doctest.h>

#include "buntime/admin/pool_views.h"

using namespace buntime;

TEST_CASE("metricsView copies every pool field and leaves the supervisor's own at zero") {
    pool::PoolMetrics m;
    m.active_workers = 1;
    m.avg_response_time_ms = 2.5;
    m.evictions = 3;
    m.ephemeral_concurrency = 4;
    m.ephemeral_queue_depth = 5;
    m.ephemeral_queue_limit = 6;
    m.hit_rate = 97.5;
    m.hits = 7;
    m.misses = 8;
    m.memory_usage_mb = 9.5;
    m.requests_per_second = 10.5;
    m.total_requests = 11;
    m.total_workers_created = 12;
    m.total_workers_failed = 13;
    m.total_workers_retired = 14;
    m.uptime_ms = 15;
    const auto v = admin::metricsView(m);
    CHECK(v.active_workers == 1);
    CHECK(v.avg_response_time_ms == 2.5);
    CHECK(v.evictions == 3);
    CHECK(v.ephemeral_concurrency == 4);
    CHECK(v.ephemeral_queue_depth == 5);
    CHECK(v.ephemeral_queue_limit == 6);
    CHECK(v.hit_rate == 97.5);
    CHECK(v.hits == 7);
    CHECK(v.misses == 8);
    CHECK(v.memory_usage_mb == 9.5);
    CHECK(v.requests_per_second == 10.5);
    CHECK(v.total_requests == 11);
    CHECK(v.total_workers_created == 12);
    CHECK(v.total_workers_failed == 13);
    CHECK(v.total_workers_retired == 14);
    CHECK(v.uptime_ms == 15);
    CHECK(v.pool_size == 0);
    CHECK(v.pid == 0);
    CHECK(v.version.empty());
}

TEST_CASE("workerRow splits the key at the last '@' and leaves the process fields null") {
    pool::WorkerStats s;
    s.key = "scope@app@1.2.3";
    s.status = pool::WorkerStatus::Idle;
    s.state = pool::WorkerState::Ready;
    s.age_ms = 100;
    s.idle_ms = 50;
    s.avg_response_time_ms = 1.25;
    s.error_count = 2;
    s.request_count = 9;
    s.in_flight = 1;
    const auto row = admin::workerRow(s);
    CHECK(row.key == "scope@app@1.2.3");
    CHECK(row.name == "scope@app");
    CHECK(row.version == "1.2.3");
    CHECK(row.status == "idle");
    CHECK(row.state == "ready");
    CHECK(row.age_ms == 100);
    CHECK(row.idle_ms == 50);
    CHECK(row.avg_response_time_ms == 1.25);
    CHECK(row.error_count == 2);
    CHECK(row.request_count == 9);
    CHECK(row.in_flight == 1);
    CHECK_FALSE(row.pid);
    CHECK_FALSE(row.rss_bytes);
    CHECK_FALSE(row.ring);

    s.key = "plain";
    CHECK(admin::workerRow(s).name == "plain");
    CHECK(admin::workerRow(s).version.empty());
}
