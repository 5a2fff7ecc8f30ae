// SPDX-License-Identifier: MIT
// WorkerPool's due-time index: nextCheckAt() is the earliest due worker among hundreds,
// through start, readiness, health checks, retirement, the kill deadline and exit.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "buntime/pool/worker_pool.h"
#include "pool_test_util.h"

using namespace buntime::pool;
using namespace buntime::pool::test;

namespace {

constexpr int kWorkers = 300;

WorkerPolicy policyFor(int i) {
    WorkerPolicy p;
    p.ttl = 100s;
    p.idle_timeout = Millis{2000 + 10 * ((i * 37) % kWorkers)};  // distinct cadences, shuffled
    p.max_requests = 1000;
    p.concurrency = 1;
    return p;
}

std::optional<TimePoint> earliest(const std::map<WorkerId, TimePoint>& due) {
    std::optional<TimePoint> best;
    for (const auto& [id, t] : due)
        if (!best || t < *best) best = t;
    return best;
}

}  // namespace

TEST_CASE("nextCheckAt is the earliest due time of hundreds of workers in every state") {
    FakeClock clock;
    PoolConfig config;
    config.capacity = 1000;
    config.start_timeout = 30s;
    config.terminate_grace = 3s;
    WorkerPool pool(config, clock.now);
    std::map<WorkerId, TimePoint> due;  // the model: what each worker waits for
    std::map<WorkerId, int> index;

    for (int i = 0; i < kWorkers; ++i) {
        auto r = pool.acquire("app" + std::to_string(i) + "@1", policyFor(i), Ticket(i + 1), clock.advance(1ms));
        REQUIRE(r.kind == AcquireKind::Spawn);
        due[r.worker] = clock.now + 30s;  // Starting: its start deadline
        index[r.worker] = i;
    }
    CHECK(pool.nextCheckAt() == earliest(due));

    // Ready in reverse order of start: each gets its own health-check time.
    for (auto it = index.rbegin(); it != index.rend(); ++it) {
        const auto [id, i] = *it;
        REQUIRE(pool.onReady(id, clock.advance(1ms)).grants.size() == 1);
        pool.onRequestEnd(id, clock.now, 1.0, Outcome::Ok);
        due[id] = clock.now + WorkerPool::checkInterval(policyFor(i));
        CHECK(pool.nextCheckAt() == earliest(due));
    }

    // Retire the earliest ones: Terminate now, then they wait for the kill deadline.
    for (int n = 0; n < 20; ++n) {
        const auto first =
            std::min_element(due.begin(), due.end(), [](auto& a, auto& b) { return a.second < b.second; });
        const WorkerId id = first->first;
        auto fx = pool.markUnhealthy(id, clock.advance(1ms));
        REQUIRE(findAction(fx, ActionKind::Terminate, id) != nullptr);
        due[id] = clock.now + 3s;
        CHECK(pool.nextCheckAt() == earliest(due));
    }

    // A health check re-arms every Ready worker; the Draining ones past grace are killed
    // and then wait for nothing but their exit.
    clock.advance(3s);
    auto fx = pool.tick(clock.now);
    CHECK(countActions(fx, ActionKind::Kill) == 20);
    for (auto it = due.begin(); it != due.end();) {
        const int i = index[it->first];
        if (pool.workerState(it->first) == WorkerState::Draining) {
            it = due.erase(it);
        } else {
            it->second = clock.now + WorkerPool::checkInterval(policyFor(i));
            ++it;
        }
    }
    CHECK(pool.nextCheckAt() == earliest(due));

    // Exits empty the index: nothing left, no timer needed.
    for (const auto& [id, i] : index) {
        pool.onWorkerExited(id, clock.advance(1ms), false);
        due.erase(id);
        CHECK(pool.nextCheckAt() == earliest(due));
    }
    CHECK_FALSE(pool.nextCheckAt().has_value());
}
