// SPDX-License-Identifier: MIT
// Pool policy for persistent workers: LRU keyed name@version, sliding TTL, max_requests, waiters.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "buntime/pool/ephemeral_gate.h"
#include "buntime/pool/rate_window.h"
#include "buntime/pool/types.h"

namespace buntime::pool {

// Pure policy: no syscalls, no threads, no clock reads — every call takes `now`.
// NOT thread-safe: owned and called by the supervisor's single event-loop thread.
// The caller carries out the returned Effects (see types.h) and reports back:
//
//   request for key K (ttl > 0):
//     r = acquire(K, policy, ticket, now); apply r.effects;
//     Use      -> send the request to r.worker now
//     Spawn/Wait -> park the request under `ticket`; it comes back in a later
//                   Effects::grants (send it) or Effects::failed (answer 503)
//     Rejected -> answer 503
//     client gave up while parked -> cancelWait(ticket)
//   Spawn action      -> start the process; then onReady(id) or onSpawnFailed(id)
//   response/deadline -> onRequestEnd(id, now, durationMs, outcome)
//   process exited    -> onWorkerExited(id, now, crashed); fail its in-flight with 502
//   timer             -> tick(now) at nextCheckAt()
//   request for key K (ttl == 0) -> ephemeralGate(), onEphemeralStart/End
//
// A grant or a Use starts the request: it is counted (request_count, total_requests)
// and occupies one of the worker's `concurrency` slots until onRequestEnd.
// Calls naming an unknown or exited worker are ignored (they return no effects).
// Tickets must be unique among parked requests. Hits/misses are counted at acquire:
// Spawn = miss, Use and Wait = hit (served by a pooled worker without its own spawn).
// Capacity bounds Starting + Ready workers; Draining ones are on their way out. When no
// Ready worker can be evicted (all Starting or with parked requests) the pool overshoots
// and tick() trims it later.
class WorkerPool {
public:
    WorkerPool(PoolConfig config, TimePoint now);

    AcquireResult acquire(std::string_view key, const WorkerPolicy& policy, Ticket ticket, TimePoint now);
    // Removes a parked ticket. False if the ticket is not parked (already granted or failed).
    bool cancelWait(Ticket ticket);

    Effects onReady(WorkerId id, TimePoint now);
    // The process could not be started: counts total_workers_failed, fails the key's waiters.
    Effects onSpawnFailed(WorkerId id, TimePoint now);
    Effects onRequestEnd(WorkerId id, TimePoint now, double durationMs, Outcome outcome);
    // A critical error seen by the caller (protocol violation, failed write): retire Unhealthy.
    Effects markUnhealthy(WorkerId id, TimePoint now);

    struct ExitResult {
        Effects effects;                 // e.g. a replacement Spawn for parked requests
        std::uint32_t lostInFlight = 0;  // requests that died with it: the caller answers 502
        bool known = false;
    };
    ExitResult onWorkerExited(WorkerId id, TimePoint now, bool crashed);

    // Health check of every worker: TTL expiry, idle notification, kill after grace,
    // start timeout, capacity trim. Call at nextCheckAt() (calling earlier is harmless).
    Effects tick(TimePoint now);
    // When tick() next has work; nullopt when no worker exists (no timer needed). O(1): the
    // due times are kept in an ordered index, not found by a scan of the workers.
    std::optional<TimePoint> nextCheckAt() const;
    // The seed's cadence: min(idle_timeout, ttl) / 2 (zero values ignored; 1 s if both
    // are zero), at least 1 ms.
    static Millis checkInterval(const WorkerPolicy& policy) noexcept;

    // Retires every worker and fails every parked ticket (ephemeral queue: gate.clearQueue()).
    Effects shutdown(TimePoint now);

    // ttl: 0 apps. Admission is the gate's; these two only account for the worker.
    EphemeralGate& ephemeralGate() noexcept { return gate_; }
    const EphemeralGate& ephemeralGate() const noexcept { return gate_; }
    WorkerId onEphemeralStart(std::string_view key, TimePoint now);
    // outcome Crash (including a failed spawn) counts total_workers_failed.
    void onEphemeralEnd(WorkerId id, TimePoint now, double durationMs, Outcome outcome);

    void setMemoryUsageMB(double mb) noexcept { memory_usage_mb_ = mb; }

    PoolMetrics metrics(TimePoint now) const;
    PoolSnapshot snapshot(TimePoint now) const;

    // Dead for ids issued earlier that are gone; nullopt for ids never issued.
    std::optional<WorkerState> workerState(WorkerId id) const;
    std::uint32_t inFlight(WorkerId id) const;
    std::size_t liveWorkers() const noexcept { return lru_.size(); }  // Starting + Ready
    std::size_t waiting(std::string_view key) const;
    const PoolConfig& config() const noexcept { return config_; }

private:
    struct Worker {
        WorkerId id = 0;
        std::string key;
        WorkerPolicy policy;
        WorkerState state = WorkerState::Starting;
        RetireReason reason = RetireReason::Shutdown;
        TimePoint created_at;
        TimePoint last_used;
        TimePoint next_check;
        std::optional<TimePoint> terminate_sent_at;
        bool kill_sent = false;
        bool idle_notified = false;
        std::uint32_t in_flight = 0;
        std::uint32_t consecutive_timeouts = 0;
        std::uint64_t request_count = 0;
        std::uint64_t completed = 0;
        std::uint64_t error_count = 0;
        double total_response_ms = 0;
        std::list<WorkerId>::iterator lru_pos;
        bool in_lru = false;
        std::optional<TimePoint> due;  // its entry in due_, if it has one
    };
    struct KeyState {
        WorkerId live = 0;  // the Starting/Ready worker of this key, 0 if none
        std::deque<Ticket> waiters;
        WorkerPolicy policy;  // latest seen; used for replacement spawns
    };
    struct History {  // cumulative over retired/exited workers of a key
        std::uint64_t request_count = 0;
        std::uint64_t completed = 0;
        std::uint64_t error_count = 0;
        double total_response_ms = 0;
    };
    struct EphemeralHistory {
        std::uint64_t request_count = 0;
        std::uint64_t completed = 0;
        std::uint64_t error_count = 0;
        double total_response_ms = 0;
        double last_response_ms = 0;
        std::uint32_t running = 0;
    };
    template <typename T>
    struct Bounded {  // insertion-ordered map that forgets its oldest key past a limit
        std::map<std::string, T, std::less<>> items;
        std::deque<std::string> order;
        T& at(std::string_view key, std::size_t limit);
    };

    Worker* find(WorkerId id);
    const Worker* find(WorkerId id) const;
    KeyState& keyState(std::string_view key);
    void lruTouch(Worker& w);
    void lruErase(Worker& w);
    void startRequest(Worker& w, TimePoint now, Effects& fx);
    void grantWaiters(Worker& w, TimePoint now, Effects& fx);
    WorkerId spawnFor(const std::string& key, KeyState& ks, TimePoint now, Effects& fx);
    void makeRoom(std::size_t target, TimePoint now, Effects& fx);
    Worker* pickVictim();
    void retire(Worker& w, RetireReason reason, TimePoint now, Effects& fx);
    void sendTerminate(Worker& w, TimePoint now, Effects& fx);
    void failStart(Worker& w, bool kill, Effects& fx);
    void failWaiters(KeyState& ks, Effects& fx);
    void recordDuration(double durationMs);
    // due_ upkeep: after a change of state, next_check, terminate_sent_at or kill_sent, and
    // before a worker is erased.
    std::optional<TimePoint> dueTime(const Worker& w) const;
    void reschedule(Worker& w);
    void unschedule(Worker& w);
    void eraseWorker(Worker& w);
    WorkerStats liveStats(const Worker& w, TimePoint now) const;

    PoolConfig config_;
    TimePoint started_at_;
    EphemeralGate gate_;
    RateWindow rate_;
    RecentAverage recent_;

    WorkerId next_id_ = 1;
    std::unordered_map<WorkerId, Worker> workers_;
    std::map<std::string, KeyState, std::less<>> keys_;
    std::unordered_map<Ticket, std::string> ticket_keys_;  // parked ticket -> key
    std::list<WorkerId> lru_;                              // front = most recently used
    std::set<std::pair<TimePoint, WorkerId>> due_;         // when each worker next needs tick()
    Bounded<History> history_;
    Bounded<EphemeralHistory> ephemeral_;
    std::unordered_map<WorkerId, std::string> ephemeral_running_;

    std::uint64_t hits_ = 0;
    std::uint64_t misses_ = 0;
    std::uint64_t evictions_ = 0;
    std::uint64_t total_requests_ = 0;
    std::uint64_t workers_created_ = 0;
    std::uint64_t workers_failed_ = 0;
    std::uint64_t workers_retired_ = 0;
    double memory_usage_mb_ = 0;
};

}  // namespace buntime::pool
