// SPDX-License-Identifier: MIT
// WorkerPool policy: hits, misses, waiters, TTL, max_requests, LRU, idle, timeouts, crashes.
#include <doctest/doctest.h>

#include "buntime/pool/worker_pool.h"
#include "pool_test_util.h"

using namespace buntime::pool;
using namespace buntime::pool::test;

namespace {

WorkerPolicy persistent(Millis ttl = 60s, Millis idle = 60s, std::uint64_t max_requests = 1000,
                        std::uint32_t concurrency = 1) {
    WorkerPolicy p;
    p.ttl = ttl;
    p.idle_timeout = idle;
    p.max_requests = max_requests;
    p.concurrency = concurrency;
    return p;
}

PoolConfig smallPool(std::size_t capacity = 10) {
    PoolConfig c;
    c.capacity = capacity;
    return c;
}

// Spawns a worker for `key` and makes it Ready; the spawning ticket's request is ended.
WorkerId warm(WorkerPool& pool, FakeClock& clock, const std::string& key, const WorkerPolicy& policy, Ticket ticket) {
    auto r = pool.acquire(key, policy, ticket, clock.now);
    REQUIRE(r.kind == AcquireKind::Spawn);
    auto fx = pool.onReady(r.worker, clock.now);
    REQUIRE(fx.grants.size() == 1);
    pool.onRequestEnd(r.worker, clock.now, 1.0, Outcome::Ok);
    return r.worker;
}

}  // namespace

TEST_CASE("a miss spawns, a later request on the Ready worker is a hit") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent();

    auto first = pool.acquire("app@1.0.0", policy, 1, clock.now);
    CHECK(first.kind == AcquireKind::Spawn);
    REQUIRE(first.effects.actions.size() == 1);
    CHECK(first.effects.actions[0].kind == ActionKind::Spawn);
    CHECK(first.effects.actions[0].worker == first.worker);
    CHECK(first.effects.actions[0].key == "app@1.0.0");
    CHECK(pool.workerState(first.worker) == WorkerState::Starting);

    auto ready = pool.onReady(first.worker, clock.now);
    REQUIRE(ready.grants.size() == 1);
    CHECK(ready.grants[0].ticket == 1);
    CHECK(ready.grants[0].worker == first.worker);
    CHECK(pool.inFlight(first.worker) == 1);
    pool.onRequestEnd(first.worker, clock.advance(5ms), 5.0, Outcome::Ok);

    auto second = pool.acquire("app@1.0.0", policy, 2, clock.now);
    CHECK(second.kind == AcquireKind::Use);
    CHECK(second.worker == first.worker);
    CHECK(second.effects.empty());
    CHECK(pool.inFlight(first.worker) == 1);

    auto m = pool.metrics(clock.now);
    CHECK(m.hits == 1);
    CHECK(m.misses == 1);
    CHECK(m.hit_rate == doctest::Approx(50.0));
    CHECK(m.total_requests == 2);
    CHECK(m.total_workers_created == 1);
    CHECK(m.active_workers == 1);

    // A different version is a different key.
    auto other = pool.acquire("app@2.0.0", policy, 3, clock.now);
    CHECK(other.kind == AcquireKind::Spawn);
    CHECK(other.worker != first.worker);
}

TEST_CASE("requests for a Starting worker wait for the same READY; one spawn only") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent(60s, 60s, 1000, 1);

    auto a = pool.acquire("k@1", policy, 10, clock.now);
    auto b = pool.acquire("k@1", policy, 11, clock.now);
    auto c = pool.acquire("k@1", policy, 12, clock.now);
    REQUIRE(a.kind == AcquireKind::Spawn);
    CHECK(b.kind == AcquireKind::Wait);
    CHECK(c.kind == AcquireKind::Wait);
    CHECK(b.worker == a.worker);
    CHECK(c.worker == a.worker);
    CHECK(countActions(b.effects, ActionKind::Spawn) == 0);
    CHECK(countActions(c.effects, ActionKind::Spawn) == 0);
    CHECK(pool.waiting("k@1") == 3);
    CHECK(pool.metrics(clock.now).total_workers_created == 1);

    // concurrency 1: READY admits the first parked request only, the rest follow one by one.
    auto ready = pool.onReady(a.worker, clock.advance(100ms));
    REQUIRE(ready.grants.size() == 1);
    CHECK(ready.grants[0].ticket == 10);
    auto end1 = pool.onRequestEnd(a.worker, clock.advance(1ms), 1.0, Outcome::Ok);
    REQUIRE(end1.grants.size() == 1);
    CHECK(end1.grants[0].ticket == 11);
    auto end2 = pool.onRequestEnd(a.worker, clock.advance(1ms), 1.0, Outcome::Ok);
    REQUIRE(end2.grants.size() == 1);
    CHECK(end2.grants[0].ticket == 12);
    auto end3 = pool.onRequestEnd(a.worker, clock.advance(1ms), 1.0, Outcome::Ok);
    CHECK(end3.empty());
    CHECK(pool.waiting("k@1") == 0);

    auto m = pool.metrics(clock.now);
    CHECK(m.misses == 1);
    CHECK(m.hits == 2);  // served by the pooled worker without a spawn of their own
    CHECK(m.total_requests == 3);
}

TEST_CASE("READY admits up to the worker's concurrency, a cancelled waiter is skipped") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent(60s, 60s, 1000, 2);

    auto a = pool.acquire("k@1", policy, 1, clock.now);
    pool.acquire("k@1", policy, 2, clock.now);
    pool.acquire("k@1", policy, 3, clock.now);
    pool.acquire("k@1", policy, 4, clock.now);
    CHECK(pool.cancelWait(2));
    CHECK_FALSE(pool.cancelWait(2));
    CHECK_FALSE(pool.cancelWait(99));

    auto ready = pool.onReady(a.worker, clock.now);
    REQUIRE(ready.grants.size() == 2);
    CHECK(ready.grants[0].ticket == 1);
    CHECK(ready.grants[1].ticket == 3);
    CHECK(pool.inFlight(a.worker) == 2);

    auto busy = pool.acquire("k@1", policy, 5, clock.now);
    CHECK(busy.kind == AcquireKind::Wait);
    auto end = pool.onRequestEnd(a.worker, clock.now, 1.0, Outcome::Ok);
    REQUIRE(end.grants.size() == 1);
    CHECK(end.grants[0].ticket == 4);
    CHECK_FALSE(pool.cancelWait(4));  // already granted
}

TEST_CASE("too many parked requests for one key are rejected") {
    FakeClock clock;
    PoolConfig config = smallPool();
    config.max_waiters_per_key = 2;
    WorkerPool pool(config, clock.now);
    const auto policy = persistent();

    CHECK(pool.acquire("k@1", policy, 1, clock.now).kind == AcquireKind::Spawn);
    CHECK(pool.acquire("k@1", policy, 2, clock.now).kind == AcquireKind::Wait);
    CHECK(pool.acquire("k@1", policy, 3, clock.now).kind == AcquireKind::Rejected);
    CHECK(pool.waiting("k@1") == 2);
    CHECK(pool.metrics(clock.now).hits == 1);
}

TEST_CASE("TTL is sliding: requests renew it, ttl of idleness expires it") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent(10s, 60s);
    const WorkerId id = warm(pool, clock, "k@1", policy, 1);

    for (Ticket t = 2; t < 6; ++t) {  // a request every 8 s keeps it alive far beyond 10 s
        clock.advance(8s);
        CHECK(pool.tick(clock.now).empty());
        auto r = pool.acquire("k@1", policy, t, clock.now);
        REQUIRE(r.kind == AcquireKind::Use);
        CHECK(r.worker == id);
        pool.onRequestEnd(id, clock.now, 1.0, Outcome::Ok);
    }

    clock.advance(9999ms);
    CHECK(pool.tick(clock.now).empty());
    CHECK(pool.workerState(id) == WorkerState::Ready);
    auto fx = pool.tick(clock.advance(1ms));
    const Action* term = findAction(fx, ActionKind::Terminate, id);
    REQUIRE(term != nullptr);
    CHECK(term->reason == RetireReason::TtlExpired);
    CHECK(pool.workerState(id) == WorkerState::Draining);
    CHECK(pool.metrics(clock.now).total_workers_retired == 1);

    auto next = pool.acquire("k@1", policy, 9, clock.now);
    CHECK(next.kind == AcquireKind::Spawn);
    CHECK(next.worker != id);
}

TEST_CASE("a long in-flight request does not expire its worker; acquire rechecks TTL before the tick") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent(10s, 60s);
    const WorkerId id = warm(pool, clock, "k@1", policy, 1);

    auto r = pool.acquire("k@1", policy, 2, clock.now);
    REQUIRE(r.kind == AcquireKind::Use);
    CHECK(pool.tick(clock.advance(30s)).empty());  // busy for 30 s: still in use
    pool.onRequestEnd(id, clock.now, 30000.0, Outcome::Ok);

    // Expired, but the tick has not run yet: acquire must not hand it out.
    clock.advance(10s);
    auto late = pool.acquire("k@1", policy, 3, clock.now);
    CHECK(late.kind == AcquireKind::Spawn);
    const Action* term = findAction(late.effects, ActionKind::Terminate, id);
    REQUIRE(term != nullptr);
    CHECK(term->reason == RetireReason::TtlExpired);
    CHECK(findAction(late.effects, ActionKind::Spawn, late.worker) != nullptr);
}

TEST_CASE("maxRequests retires the worker after its last request; the next request spawns") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent(60s, 60s, 3);
    const WorkerId id = warm(pool, clock, "k@1", policy, 1);  // request 1

    auto r2 = pool.acquire("k@1", policy, 2, clock.now);
    REQUIRE(r2.kind == AcquireKind::Use);
    pool.onRequestEnd(id, clock.now, 1.0, Outcome::Ok);
    auto r3 = pool.acquire("k@1", policy, 3, clock.now);  // request 3 = max_requests
    REQUIRE(r3.kind == AcquireKind::Use);
    CHECK(r3.effects.actions.empty());  // in flight: drain first
    CHECK(pool.workerState(id) == WorkerState::Draining);

    auto r4 = pool.acquire("k@1", policy, 4, clock.now);
    CHECK(r4.kind == AcquireKind::Spawn);
    CHECK(r4.worker != id);

    auto end = pool.onRequestEnd(id, clock.now, 1.0, Outcome::Ok);
    const Action* term = findAction(end, ActionKind::Terminate, id);
    REQUIRE(term != nullptr);
    CHECK(term->reason == RetireReason::MaxRequests);
    CHECK(end.grants.empty());

    auto exited = pool.onWorkerExited(id, clock.now, false);
    CHECK(exited.known);
    CHECK(exited.lostInFlight == 0);
    CHECK(pool.workerState(id) == WorkerState::Dead);

    auto m = pool.metrics(clock.now);
    CHECK(m.total_workers_retired == 1);
    CHECK(m.total_workers_created == 2);
    CHECK(m.total_workers_failed == 0);
}

TEST_CASE("maxRequests with parked requests spawns the replacement at once") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent(60s, 60s, 2, 1);

    auto a = pool.acquire("k@1", policy, 1, clock.now);
    pool.acquire("k@1", policy, 2, clock.now);
    pool.acquire("k@1", policy, 3, clock.now);
    auto ready = pool.onReady(a.worker, clock.now);
    REQUIRE(ready.grants.size() == 1);

    auto end1 = pool.onRequestEnd(a.worker, clock.now, 1.0, Outcome::Ok);
    REQUIRE(end1.grants.size() == 1);
    CHECK(end1.grants[0].ticket == 2);  // request 2 = max_requests: retired, ticket 3 needs a new worker
    const Action* spawn = findAction(end1, ActionKind::Spawn);
    REQUIRE(spawn != nullptr);
    CHECK(spawn->worker != a.worker);
    CHECK(pool.waiting("k@1") == 1);

    auto end2 = pool.onRequestEnd(a.worker, clock.now, 1.0, Outcome::Ok);
    CHECK(findAction(end2, ActionKind::Terminate, a.worker) != nullptr);
    auto ready2 = pool.onReady(spawn->worker, clock.now);
    REQUIRE(ready2.grants.size() == 1);
    CHECK(ready2.grants[0].ticket == 3);
    CHECK(ready2.grants[0].worker == spawn->worker);
}

TEST_CASE("a full pool evicts the least recently used worker, idle ones first") {
    FakeClock clock;
    WorkerPool pool(smallPool(2), clock.now);
    const auto policy = persistent();

    SUBCASE("least recently used goes first") {
        const WorkerId a = warm(pool, clock, "a@1", policy, 1);
        clock.advance(1s);
        const WorkerId b = warm(pool, clock, "b@1", policy, 2);
        clock.advance(1s);
        auto use = pool.acquire("a@1", policy, 3, clock.now);  // a becomes most recent
        REQUIRE(use.kind == AcquireKind::Use);
        pool.onRequestEnd(a, clock.now, 1.0, Outcome::Ok);

        auto c = pool.acquire("c@1", policy, 4, clock.now);
        REQUIRE(c.kind == AcquireKind::Spawn);
        REQUIRE(c.effects.actions.size() == 2);
        CHECK(c.effects.actions[0].kind == ActionKind::Terminate);  // make room before spawning
        CHECK(c.effects.actions[0].worker == b);
        CHECK(c.effects.actions[0].reason == RetireReason::Evicted);
        CHECK(c.effects.actions[1].kind == ActionKind::Spawn);
        CHECK(pool.workerState(a) == WorkerState::Ready);
        CHECK(pool.liveWorkers() == 2);
        auto m = pool.metrics(clock.now);
        CHECK(m.evictions == 1);
        CHECK(m.total_workers_retired == 1);
    }

    SUBCASE("an idle worker is preferred over a busy older one") {
        const WorkerId a = warm(pool, clock, "a@1", policy, 1);
        clock.advance(1s);
        const WorkerId b = warm(pool, clock, "b@1", policy, 2);
        clock.advance(1s);
        auto busy = pool.acquire("a@1", policy, 3, clock.now);  // a in flight, now most recent
        REQUIRE(busy.kind == AcquireKind::Use);
        clock.advance(1s);
        auto use_b = pool.acquire("b@1", policy, 4, clock.now);  // b most recent but idle after
        pool.onRequestEnd(b, clock.now, 1.0, Outcome::Ok);
        REQUIRE(use_b.kind == AcquireKind::Use);

        auto c = pool.acquire("c@1", policy, 5, clock.now);
        const Action* term = findAction(c.effects, ActionKind::Terminate);
        REQUIRE(term != nullptr);
        CHECK(term->worker == b);
        CHECK(pool.workerState(a) == WorkerState::Ready);
    }

    SUBCASE("when every worker is busy the LRU one drains, terminating after its request") {
        const WorkerId a = warm(pool, clock, "a@1", policy, 1);
        clock.advance(1s);
        const WorkerId b = warm(pool, clock, "b@1", policy, 2);
        REQUIRE(pool.acquire("a@1", policy, 3, clock.now).kind == AcquireKind::Use);
        clock.advance(1s);
        REQUIRE(pool.acquire("b@1", policy, 4, clock.now).kind == AcquireKind::Use);

        auto c = pool.acquire("c@1", policy, 5, clock.now);
        CHECK(countActions(c.effects, ActionKind::Terminate) == 0);
        CHECK(pool.workerState(a) == WorkerState::Draining);
        CHECK(pool.workerState(b) == WorkerState::Ready);
        auto end = pool.onRequestEnd(a, clock.now, 1.0, Outcome::Ok);
        const Action* term = findAction(end, ActionKind::Terminate, a);
        REQUIRE(term != nullptr);
        CHECK(term->reason == RetireReason::Evicted);
    }

    SUBCASE("Starting workers are not evicted: the limit overshoots, tick trims later") {
        auto a = pool.acquire("a@1", policy, 1, clock.now);
        auto b = pool.acquire("b@1", policy, 2, clock.now);
        auto c = pool.acquire("c@1", policy, 3, clock.now);
        CHECK(c.kind == AcquireKind::Spawn);
        CHECK(countActions(c.effects, ActionKind::Terminate) == 0);
        CHECK(pool.liveWorkers() == 3);
        for (auto* r : {&a, &b, &c}) {
            pool.onReady(r->worker, clock.now);
            pool.onRequestEnd(r->worker, clock.now, 1.0, Outcome::Ok);
        }
        clock.advance(1s);
        REQUIRE(pool.acquire("b@1", policy, 4, clock.now).kind == AcquireKind::Use);
        pool.onRequestEnd(b.worker, clock.now, 1.0, Outcome::Ok);
        REQUIRE(pool.acquire("c@1", policy, 5, clock.now).kind == AcquireKind::Use);
        pool.onRequestEnd(c.worker, clock.now, 1.0, Outcome::Ok);
        auto fx = pool.tick(clock.now);
        const Action* term = findAction(fx, ActionKind::Terminate);
        REQUIRE(term != nullptr);
        CHECK(term->worker == a.worker);
        CHECK(term->reason == RetireReason::Evicted);
        CHECK(pool.liveWorkers() == 2);
    }
}

TEST_CASE("idle notification is sent once per idle period and the worker keeps living") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent(60s, 2s);
    const WorkerId id = warm(pool, clock, "k@1", policy, 1);

    CHECK(pool.tick(clock.advance(1s)).empty());
    auto fx = pool.tick(clock.advance(1s));
    REQUIRE(fx.actions.size() == 1);
    CHECK(fx.actions[0].kind == ActionKind::NotifyIdle);
    CHECK(fx.actions[0].worker == id);
    CHECK(pool.tick(clock.advance(1s)).empty());
    CHECK(pool.tick(clock.advance(10s)).empty());
    CHECK(pool.workerState(id) == WorkerState::Ready);
    CHECK(pool.snapshot(clock.now).workers.at(0).status == WorkerStatus::Idle);

    auto r = pool.acquire("k@1", policy, 2, clock.now);
    REQUIRE(r.kind == AcquireKind::Use);
    CHECK(pool.snapshot(clock.now).workers.at(0).status == WorkerStatus::Active);
    CHECK(pool.tick(clock.advance(5s)).empty());  // busy is not idle
    pool.onRequestEnd(id, clock.now, 5000.0, Outcome::Ok);
    CHECK(pool.tick(clock.advance(1s)).empty());
    CHECK(countActions(pool.tick(clock.advance(1s)), ActionKind::NotifyIdle) == 1);
    CHECK(pool.tick(clock.advance(1s)).empty());
}

TEST_CASE("health-check cadence is min(idleTimeout, ttl) / 2") {
    CHECK(WorkerPool::checkInterval(persistent(10s, 4s)) == 2s);
    CHECK(WorkerPool::checkInterval(persistent(3s, 60s)) == 1500ms);
    CHECK(WorkerPool::checkInterval(persistent(10s, 0s)) == 5s);
    CHECK(WorkerPool::checkInterval(persistent(1ms, 1ms)) == 1ms);

    FakeClock clock;
    PoolConfig config = smallPool();
    config.start_timeout = 30s;
    config.terminate_grace = 3s;
    WorkerPool pool(config, clock.now);
    CHECK_FALSE(pool.nextCheckAt().has_value());

    const auto policy = persistent(10s, 4s);
    auto r = pool.acquire("k@1", policy, 1, clock.now);
    CHECK(pool.nextCheckAt() == clock.now + 30s);  // Starting: the start deadline
    pool.onReady(r.worker, clock.advance(1s));
    CHECK(pool.nextCheckAt() == clock.now + 2s);
    pool.onRequestEnd(r.worker, clock.now, 1.0, Outcome::Ok);
    pool.tick(clock.advance(2s));
    CHECK(pool.nextCheckAt() == clock.now + 2s);

    auto fx = pool.tick(clock.advance(10s));  // expired: Terminate, then the kill deadline
    REQUIRE(findAction(fx, ActionKind::Terminate, r.worker) != nullptr);
    CHECK(pool.nextCheckAt() == clock.now + 3s);
    pool.onWorkerExited(r.worker, clock.advance(100ms), false);
    CHECK_FALSE(pool.nextCheckAt().has_value());
}

TEST_CASE("a Draining worker that does not exit within the grace period is killed once") {
    FakeClock clock;
    PoolConfig config = smallPool();
    config.terminate_grace = 5s;
    WorkerPool pool(config, clock.now);
    const auto policy = persistent(10s, 60s);
    const WorkerId id = warm(pool, clock, "k@1", policy, 1);

    auto fx = pool.tick(clock.advance(10s));
    REQUIRE(findAction(fx, ActionKind::Terminate, id) != nullptr);
    CHECK(pool.tick(clock.advance(4999ms)).empty());
    auto kill = pool.tick(clock.advance(1ms));
    REQUIRE(kill.actions.size() == 1);
    CHECK(kill.actions[0].kind == ActionKind::Kill);
    CHECK(kill.actions[0].worker == id);
    CHECK(pool.tick(clock.advance(10s)).empty());
    auto exited = pool.onWorkerExited(id, clock.now, true);
    CHECK(exited.known);
    CHECK(pool.metrics(clock.now).total_workers_failed == 0);  // killed on purpose is not a failure
    CHECK(pool.metrics(clock.now).active_workers == 0);
}

TEST_CASE("repeated timeouts in a row retire the worker") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);  // max_consecutive_timeouts = 3
    const auto policy = persistent();
    const WorkerId id = warm(pool, clock, "k@1", policy, 1);
    Ticket ticket = 2;
    auto request = [&](Outcome outcome) {
        auto r = pool.acquire("k@1", policy, ticket++, clock.now);
        REQUIRE(r.kind == AcquireKind::Use);
        REQUIRE(r.worker == id);
        return pool.onRequestEnd(id, clock.advance(30s), 30000.0, outcome);
    };

    CHECK(request(Outcome::Timeout).empty());
    CHECK(request(Outcome::Timeout).empty());
    CHECK(request(Outcome::Ok).empty());  // the streak restarts
    CHECK(request(Outcome::Timeout).empty());
    CHECK(request(Outcome::AppError).empty());
    CHECK(request(Outcome::Timeout).empty());
    CHECK(request(Outcome::Timeout).empty());
    auto fx = request(Outcome::Timeout);
    const Action* term = findAction(fx, ActionKind::Terminate, id);
    REQUIRE(term != nullptr);
    CHECK(term->reason == RetireReason::Timeouts);
    CHECK(pool.snapshot(clock.now).workers.at(0).error_count == 7);
}

TEST_CASE("crashes: a Crash outcome retires Unhealthy, an unexpected exit loses its in-flight requests") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent(60s, 60s, 1000, 4);

    SUBCASE("Crash outcome") {
        const WorkerId id = warm(pool, clock, "k@1", policy, 1);
        REQUIRE(pool.acquire("k@1", policy, 2, clock.now).kind == AcquireKind::Use);
        auto fx = pool.onRequestEnd(id, clock.now, 1.0, Outcome::Crash);
        const Action* term = findAction(fx, ActionKind::Terminate, id);
        REQUIRE(term != nullptr);
        CHECK(term->reason == RetireReason::Unhealthy);
    }

    SUBCASE("markUnhealthy") {
        const WorkerId id = warm(pool, clock, "k@1", policy, 1);
        auto fx = pool.markUnhealthy(id, clock.now);
        CHECK(findAction(fx, ActionKind::Terminate, id) != nullptr);
        CHECK(pool.acquire("k@1", policy, 2, clock.now).kind == AcquireKind::Spawn);
    }

    SUBCASE("exit of a Ready worker") {
        const WorkerId id = warm(pool, clock, "k@1", policy, 1);
        for (Ticket t = 2; t < 6; ++t) REQUIRE(pool.acquire("k@1", policy, t, clock.now).kind == AcquireKind::Use);
        CHECK(pool.acquire("k@1", policy, 6, clock.now).kind == AcquireKind::Wait);

        auto exited = pool.onWorkerExited(id, clock.now, true);
        CHECK(exited.known);
        CHECK(exited.lostInFlight == 4);
        const Action* spawn = findAction(exited.effects, ActionKind::Spawn);
        REQUIRE(spawn != nullptr);  // the parked request gets a new worker
        CHECK(spawn->key == "k@1");
        CHECK(pool.workerState(id) == WorkerState::Dead);
        CHECK(pool.onRequestEnd(id, clock.now, 1.0, Outcome::Ok).empty());  // late report: ignored
        auto ready = pool.onReady(spawn->worker, clock.now);
        REQUIRE(ready.grants.size() == 1);
        CHECK(ready.grants[0].ticket == 6);

        auto m = pool.metrics(clock.now);
        CHECK(m.total_workers_failed == 1);
        CHECK(m.total_workers_retired == 0);
        auto row = pool.snapshot(clock.now).workers.at(0);
        CHECK(row.error_count == 1);
        CHECK(row.request_count == 6);
    }

    SUBCASE("unknown ids are ignored") {
        CHECK_FALSE(pool.onWorkerExited(12345, clock.now, true).known);
        CHECK(pool.onReady(12345, clock.now).empty());
        CHECK(pool.markUnhealthy(12345, clock.now).empty());
        CHECK_FALSE(pool.workerState(12345).has_value());
    }
}

TEST_CASE("spawn failure counts totalWorkersFailed and fails every parked request") {
    FakeClock clock;
    PoolConfig config = smallPool();
    config.start_timeout = 10s;
    WorkerPool pool(config, clock.now);
    const auto policy = persistent();

    SUBCASE("reported by the caller") {
        auto a = pool.acquire("k@1", policy, 1, clock.now);
        pool.acquire("k@1", policy, 2, clock.now);
        pool.acquire("k@1", policy, 3, clock.now);
        auto fx = pool.onSpawnFailed(a.worker, clock.now);
        CHECK(fx.failed == std::vector<Ticket>{1, 2, 3});
        CHECK(fx.actions.empty());
        CHECK(pool.waiting("k@1") == 0);
        CHECK(pool.workerState(a.worker) == WorkerState::Dead);
        CHECK(pool.metrics(clock.now).total_workers_failed == 1);
        CHECK(pool.metrics(clock.now).active_workers == 0);

        auto retry = pool.acquire("k@1", policy, 4, clock.now);
        CHECK(retry.kind == AcquireKind::Spawn);
        CHECK(retry.worker != a.worker);
    }

    SUBCASE("no READY within the start timeout") {
        auto a = pool.acquire("k@1", policy, 1, clock.now);
        CHECK(pool.tick(clock.advance(9s)).empty());
        auto fx = pool.tick(clock.advance(1s));
        CHECK(fx.failed == std::vector<Ticket>{1});
        REQUIRE(findAction(fx, ActionKind::Kill, a.worker) != nullptr);
        CHECK(pool.metrics(clock.now).total_workers_failed == 1);
        CHECK(pool.onReady(a.worker, clock.now).empty());  // too late
    }

    SUBCASE("the process died before READY") {
        auto a = pool.acquire("k@1", policy, 1, clock.now);
        auto exited = pool.onWorkerExited(a.worker, clock.now, true);
        CHECK(exited.effects.failed == std::vector<Ticket>{1});
        CHECK(pool.metrics(clock.now).total_workers_failed == 1);
    }
}

TEST_CASE("offline history survives retirement and is merged into the key's next worker") {
    FakeClock clock;
    PoolConfig config = smallPool();
    config.history_limit = 2;
    WorkerPool pool(config, clock.now);
    const auto policy = persistent(10s, 60s);

    const WorkerId first = warm(pool, clock, "k@1", policy, 1);  // 1 request, 1 ms
    REQUIRE(pool.acquire("k@1", policy, 2, clock.now).kind == AcquireKind::Use);
    pool.onRequestEnd(first, clock.now, 3.0, Outcome::AppError);
    pool.tick(clock.advance(10s));
    pool.onWorkerExited(first, clock.now, false);

    auto snap = pool.snapshot(clock.advance(1s));
    REQUIRE(snap.workers.size() == 1);
    const WorkerStats& offline = snap.workers[0];
    CHECK(offline.key == "k@1");
    CHECK(offline.status == WorkerStatus::Offline);
    CHECK(offline.id == 0);
    CHECK(offline.request_count == 2);
    CHECK(offline.error_count == 1);
    CHECK(offline.avg_response_time_ms == doctest::Approx(2.0));
    CHECK(offline.total_response_time_ms == doctest::Approx(4.0));
    CHECK(snap.metrics.active_workers == 0);

    const WorkerId second = warm(pool, clock, "k@1", policy, 3);  // 1 request, 1 ms
    snap = pool.snapshot(clock.advance(500ms));
    REQUIRE(snap.workers.size() == 1);
    CHECK(snap.workers[0].status == WorkerStatus::Active);
    CHECK(snap.workers[0].id == second);
    CHECK(snap.workers[0].request_count == 3);
    CHECK(snap.workers[0].error_count == 1);
    CHECK(snap.workers[0].avg_response_time_ms == doctest::Approx(5.0 / 3.0).epsilon(0.01));
    CHECK(snap.workers[0].age_ms == 500);
    CHECK(snap.workers[0].idle_ms == 500);

    // Bounded: with room for two keys the oldest key's history is forgotten.
    for (const char* key : {"a@1", "b@1"}) {
        const WorkerId id = warm(pool, clock, key, policy, 100);
        pool.markUnhealthy(id, clock.now);
        pool.onWorkerExited(id, clock.now, false);
    }
    pool.markUnhealthy(second, clock.now);
    pool.onWorkerExited(second, clock.now, false);
    snap = pool.snapshot(clock.now);
    std::vector<std::string> keys;
    for (const auto& w : snap.workers) keys.push_back(w.key);
    CHECK(keys == std::vector<std::string>{"b@1", "k@1"});  // a@1 was the oldest entry
    CHECK(snap.workers[1].request_count == 1);              // k@1 was dropped once, then re-added
    CHECK(snap.metrics.total_workers_retired == 4);
}

TEST_CASE("Draining workers are listed apart and their late requests count in history") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent(60s, 60s, 2);
    const WorkerId id = warm(pool, clock, "k@1", policy, 1);
    REQUIRE(pool.acquire("k@1", policy, 2, clock.now).kind == AcquireKind::Use);  // retires
    auto snap = pool.snapshot(clock.now);
    REQUIRE(snap.draining.size() == 1);
    CHECK(snap.draining[0].id == id);
    CHECK(snap.draining[0].state == WorkerState::Draining);
    CHECK(snap.draining[0].in_flight == 1);
    CHECK(snap.metrics.active_workers == 1);

    pool.onRequestEnd(id, clock.now, 9.0, Outcome::Ok);
    snap = pool.snapshot(clock.now);
    REQUIRE(snap.workers.size() == 1);
    CHECK(snap.workers[0].status == WorkerStatus::Offline);
    CHECK(snap.workers[0].request_count == 2);
    CHECK(snap.workers[0].total_response_time_ms == doctest::Approx(10.0));
}

TEST_CASE("shutdown retires every worker and fails every parked request") {
    FakeClock clock;
    WorkerPool pool(smallPool(), clock.now);
    const auto policy = persistent();
    const WorkerId a = warm(pool, clock, "a@1", policy, 1);
    auto b = pool.acquire("b@1", policy, 2, clock.now);
    pool.acquire("b@1", policy, 3, clock.now);

    auto fx = pool.shutdown(clock.now);
    CHECK(fx.failed == std::vector<Ticket>{2, 3});
    CHECK(findAction(fx, ActionKind::Terminate, a) != nullptr);
    CHECK(findAction(fx, ActionKind::Terminate, b.worker) != nullptr);
    CHECK(countActions(fx, ActionKind::Spawn) == 0);
    CHECK(pool.liveWorkers() == 0);
}
