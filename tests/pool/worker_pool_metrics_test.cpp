// SPDX-License-Identifier: MIT
// Pool metrics: hit rate, sliding requests-per-second, averages, uptime, ephemeral accounting.
#include <doctest/doctest.h>

#include "buntime/pool/worker_pool.h"
#include "pool_test_util.h"

using namespace buntime::pool;
using namespace buntime::pool::test;

namespace {

WorkerPolicy persistent() {
    WorkerPolicy p;
    p.ttl = 3600s;
    p.idle_timeout = 3600s;
    p.max_requests = 1000000;
    p.concurrency = 1;
    return p;
}

}  // namespace

TEST_CASE("RateWindow: rate over the covered span, old buckets fall out of the window") {
    FakeClock clock;
    const TimePoint origin = clock.now;
    RateWindow window(10s, origin, 10);  // 1 s buckets
    CHECK(window.perSecond(origin) == 0.0);

    for (int i = 0; i < 50; ++i) window.record(origin + Millis{i * 100});  // 50 events in 5 s
    CHECK(window.perSecond(origin + 5s) == doctest::Approx(10.0));
    // At 10 s the window holds buckets 1..10 (9 s covered): bucket 0's 10 events left it.
    CHECK(window.perSecond(origin + 10s) == doctest::Approx(40.0 / 9.0));
    // At 14.5 s the window starts at bucket 5: the first 5 s of events are gone.
    CHECK(window.perSecond(origin + 14500ms) == doctest::Approx(0.0));

    window.record(origin + 20s, 30);
    CHECK(window.perSecond(origin + 20500ms) == doctest::Approx(30.0 / 9.5));  // buckets 11..20
    CHECK(window.perSecond(origin + 21s) == doctest::Approx(30.0 / 9.0));
    CHECK(window.perSecond(origin + 40s) == doctest::Approx(0.0));
}

TEST_CASE("RecentAverage keeps the last 100 samples") {
    RecentAverage avg;
    CHECK(avg.mean() == 0.0);
    avg.add(10);
    avg.add(20);
    CHECK(avg.mean() == doctest::Approx(15.0));
    for (int i = 0; i < 100; ++i) avg.add(4);
    CHECK(avg.mean() == doctest::Approx(4.0));
}

TEST_CASE("pool metrics: hit rate, rps window, averages, uptime, memory") {
    FakeClock clock;
    PoolConfig config;
    config.rps_window = 10s;
    config.ephemeral_concurrency = 3;
    config.ephemeral_queue_limit = 7;
    const TimePoint start = clock.now;
    WorkerPool pool(config, start);
    const auto policy = persistent();

    auto first = pool.acquire("k@1", policy, 1, clock.now);
    pool.onReady(first.worker, clock.now);
    pool.onRequestEnd(first.worker, clock.now, 10.0, Outcome::Ok);
    // 39 more requests, one every 100 ms, each taking 2 ms (1 ms response + 1 ms gap).
    for (Ticket t = 2; t <= 40; ++t) {
        clock.advance(100ms);
        auto r = pool.acquire("k@1", policy, t, clock.now);
        REQUIRE(r.kind == AcquireKind::Use);
        pool.onRequestEnd(r.worker, clock.now, t == 40 ? 4.0 : 2.0, t == 40 ? Outcome::AppError : Outcome::Ok);
    }
    pool.setMemoryUsageMB(123.456);

    auto m = pool.metrics(start + 4s);
    CHECK(m.hits == 39);
    CHECK(m.misses == 1);
    CHECK(m.hit_rate == doctest::Approx(97.5));
    CHECK(m.total_requests == 40);
    CHECK(m.requests_per_second == doctest::Approx(10.0));  // 40 requests over 4 s
    CHECK(m.avg_response_time_ms == doctest::Approx((10.0 + 38 * 2.0 + 4.0) / 40.0));
    CHECK(m.uptime_ms == 4000);
    CHECK(m.memory_usage_mb == doctest::Approx(123.46));
    CHECK(m.active_workers == 1);
    CHECK(m.ephemeral_concurrency == 3);
    CHECK(m.ephemeral_queue_limit == 7);
    CHECK(m.ephemeral_queue_depth == 0);
    CHECK(m.total_workers_created == 1);

    CHECK(pool.metrics(start + 60s).requests_per_second == doctest::Approx(0.0));

    auto snap = pool.snapshot(start + 5s);
    REQUIRE(snap.workers.size() == 1);
    const WorkerStats& w = snap.workers[0];
    CHECK(w.key == "k@1");
    CHECK(w.id == first.worker);
    CHECK(w.request_count == 40);
    CHECK(w.error_count == 1);
    CHECK(w.total_response_time_ms == doctest::Approx(90.0));
    CHECK(w.avg_response_time_ms == doctest::Approx(2.25));
    CHECK(w.age_ms == 5000);
    CHECK(w.idle_ms == 1100);  // last request ended at 3.9 s
    CHECK(w.status == WorkerStatus::Active);
    CHECK(std::string(toString(w.status)) == "active");
}

TEST_CASE("ephemeral workers are counted as misses and listed with status ephemeral") {
    FakeClock clock;
    PoolConfig config;
    config.ephemeral_concurrency = 2;
    config.ephemeral_queue_limit = 1;
    WorkerPool pool(config, clock.now);

    REQUIRE(pool.ephemeralGate().tryEnter(1) == GateDecision::Admitted);
    REQUIRE(pool.ephemeralGate().tryEnter(2) == GateDecision::Admitted);
    REQUIRE(pool.ephemeralGate().tryEnter(3) == GateDecision::Queued);
    const WorkerId a = pool.onEphemeralStart("fn@1", clock.now);
    const WorkerId b = pool.onEphemeralStart("fn@1", clock.now);
    CHECK(a != b);

    auto snap = pool.snapshot(clock.now);
    REQUIRE(snap.workers.size() == 1);
    CHECK(snap.workers[0].status == WorkerStatus::Ephemeral);
    CHECK(snap.workers[0].in_flight == 2);
    CHECK(snap.metrics.ephemeral_queue_depth == 1);
    CHECK(snap.metrics.ephemeral_queue_limit == 1);
    CHECK(snap.metrics.active_workers == 0);  // ephemeral workers are not pooled
    CHECK(pool.workerState(a) == WorkerState::Ready);

    pool.onEphemeralEnd(a, clock.advance(40ms), 40.0, Outcome::Ok);
    pool.onEphemeralEnd(b, clock.advance(20ms), 60.0, Outcome::Crash);
    pool.onEphemeralEnd(b, clock.now, 60.0, Outcome::Crash);  // reported twice: ignored
    CHECK(pool.workerState(a) == WorkerState::Dead);

    snap = pool.snapshot(clock.now);
    REQUIRE(snap.workers.size() == 1);
    const WorkerStats& row = snap.workers[0];
    CHECK(row.status == WorkerStatus::Ephemeral);
    CHECK(row.in_flight == 0);
    CHECK(row.request_count == 2);
    CHECK(row.error_count == 1);
    CHECK(row.age_ms == 60);  // last response duration, as the seed reports it
    CHECK(row.avg_response_time_ms == doctest::Approx(50.0));
    CHECK(snap.metrics.misses == 2);
    CHECK(snap.metrics.hits == 0);
    CHECK(snap.metrics.hit_rate == 0.0);
    CHECK(snap.metrics.total_workers_created == 2);
    CHECK(snap.metrics.total_workers_failed == 1);
    CHECK(snap.metrics.total_requests == 2);
    CHECK(snap.metrics.avg_response_time_ms == doctest::Approx(50.0));
}

TEST_CASE("enum names match the JSON vocabulary") {
    CHECK(std::string(toString(WorkerStatus::Idle)) == "idle");
    CHECK(std::string(toString(WorkerStatus::Ephemeral)) == "ephemeral");
    CHECK(std::string(toString(WorkerStatus::Offline)) == "offline");
    CHECK(std::string(toString(RetireReason::MaxRequests)) == "max-requests");
    CHECK(std::string(toString(ActionKind::NotifyIdle)) == "notify-idle");
}
