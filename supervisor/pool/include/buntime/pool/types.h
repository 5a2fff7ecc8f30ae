// SPDX-License-Identifier: MIT
// Value types of the pool policy: worker policy, actions the caller carries out, stats.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/base/clock.h"

namespace buntime::pool {

// The clock is read by the caller, never here: every call that needs time takes `now`.
using base::Clock;
using base::TimePoint;
using Millis = std::chrono::milliseconds;
using WorkerId = std::uint64_t;  // issued by the pool, starts at 1; 0 means "none"
using Ticket = std::uint64_t;    // chosen by the caller, names one parked request

// The manifest keys the pool acts on (a persistent app: ttl > 0).
struct WorkerPolicy {
    Millis ttl{Millis{0}};               // sliding: expiry = last use + ttl; 0 = ephemeral (use EphemeralGate)
    Millis idle_timeout{Millis{60000}};  // NotifyIdle after this long without requests; 0 disables
    Millis timeout{Millis{30000}};       // per-request deadline, enforced by the caller
    std::uint64_t max_requests = 1000;   // the worker retires when it has started this many
    std::uint32_t concurrency = 1;       // requests one worker may run at once (>= 1)
    // Starting longer than this = spawn failure (+ Kill); the larger of it and
    // PoolConfig::start_timeout applies (the caller may enforce a shorter one itself).
    Millis start_timeout{Millis{0}};
};

struct PoolConfig {
    std::size_t capacity = 100;               // RUNTIME_POOL_SIZE: Starting+Ready workers
    std::size_t ephemeral_concurrency = 2;    // RUNTIME_EPHEMERAL_CONCURRENCY
    std::size_t ephemeral_queue_limit = 100;  // RUNTIME_EPHEMERAL_QUEUE_LIMIT
    std::size_t max_waiters_per_key = 1000;   // parked requests per key before Rejected (503)
    std::uint32_t max_consecutive_timeouts = 3;
    Millis start_timeout{Millis{30000}};   // Starting longer than this = spawn failure (+ Kill)
    Millis terminate_grace{Millis{5000}};  // Terminate sent, no exit after this = Kill
    Millis rps_window{Millis{10000}};      // sliding window of requests_per_second
    std::size_t history_limit = 1000;      // keys kept in offline / ephemeral history
};

enum class WorkerState : std::uint8_t {
    Starting,  // Spawn issued, READY not yet seen; requests for its key wait
    Ready,     // serves requests, in the LRU
    Draining,  // retired: no new requests; Terminate once in-flight reaches 0
    Dead,      // exited (the pool forgets it; workerState() reports Dead for old ids)
};

enum class Outcome : std::uint8_t { Ok, AppError, Timeout, Crash };

enum class RetireReason : std::uint8_t { TtlExpired, MaxRequests, Evicted, Unhealthy, Timeouts, Shutdown };

enum class ActionKind : std::uint8_t {
    Spawn,       // start a worker process for `key` with id `worker`; report onReady/onSpawnFailed
    Terminate,   // graceful stop (onTerminate hook, then exit); report onWorkerExited
    Kill,        // SIGKILL: Draining past the grace period, or stuck Starting
    NotifyIdle,  // send the idle notification; the worker keeps living
};

struct Action {
    ActionKind kind = ActionKind::Spawn;
    WorkerId worker = 0;
    std::string key;                               // name@version of the worker
    RetireReason reason = RetireReason::Shutdown;  // meaningful for Terminate only
};

// A parked request admitted onto a worker: its slot is reserved and counted as started.
struct Grant {
    Ticket ticket = 0;
    WorkerId worker = 0;
};

// What the caller must do after a pool call, in this order: actions, grants, failed.
struct Effects {
    std::vector<Action> actions;
    std::vector<Grant> grants;
    std::vector<Ticket> failed;  // parked requests whose worker could not start: answer 503

    bool empty() const noexcept { return actions.empty() && grants.empty() && failed.empty(); }
    void append(Effects&& other);
};

enum class AcquireKind : std::uint8_t {
    Use,       // slot reserved on `worker`: send the request now (counted as a hit)
    Spawn,     // miss: the ticket is parked on the new `worker` (its Spawn action is in effects)
    Wait,      // the ticket is parked behind `worker` (Starting, or at its concurrency limit)
    Rejected,  // too many parked requests for this key: answer 503
};

struct AcquireResult {
    AcquireKind kind = AcquireKind::Rejected;
    WorkerId worker = 0;
    Effects effects;  // evictions + Spawn, or retirements discovered on the way
};

enum class WorkerStatus : std::uint8_t { Active, Idle, Ephemeral, Offline };

// One row of the per-worker stats (the seed keys them by name@version).
struct WorkerStats {
    std::string key;
    WorkerId id = 0;  // the live worker; 0 for ephemeral/offline rows
    WorkerStatus status = WorkerStatus::Offline;
    WorkerState state = WorkerState::Dead;
    std::int64_t age_ms = 0;  // ephemeral: last response duration (as the seed)
    std::int64_t idle_ms = 0;
    double avg_response_time_ms = 0;  // over completed requests, rounded to 2 decimals
    double total_response_time_ms = 0;
    std::uint64_t error_count = 0;
    std::uint64_t request_count = 0;  // cumulative over the key's past workers too
    std::uint32_t in_flight = 0;      // ephemeral: running ephemeral workers of this key
};

// Pool-wide metrics; field names are the JSON keys the supervisor emits.
struct PoolMetrics {
    std::uint64_t active_workers = 0;  // pooled workers alive: Starting + Ready + Draining
    double avg_response_time_ms = 0;   // last 100 completed requests
    std::uint64_t evictions = 0;
    std::uint64_t ephemeral_concurrency = 0;  // configured limit
    std::uint64_t ephemeral_queue_depth = 0;
    std::uint64_t ephemeral_queue_limit = 0;
    double hit_rate = 0;  // percent, 0..100, 2 decimals (as the seed)
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    double memory_usage_mb = 0;      // set by the caller (RSS)
    double requests_per_second = 0;  // started requests over the sliding window
    std::uint64_t total_requests = 0;
    std::uint64_t total_workers_created = 0;
    std::uint64_t total_workers_failed = 0;
    std::uint64_t total_workers_retired = 0;
    std::int64_t uptime_ms = 0;
};

struct PoolSnapshot {
    PoolMetrics metrics;
    std::vector<WorkerStats> workers;   // one row per key, sorted by key
    std::vector<WorkerStats> draining;  // retired workers still alive, by id
};

std::string_view toString(WorkerState state) noexcept;
std::string_view toString(Outcome outcome) noexcept;
std::string_view toString(RetireReason reason) noexcept;
std::string_view toString(ActionKind kind) noexcept;
std::string_view toString(AcquireKind kind) noexcept;
std::string_view toString(WorkerStatus status) noexcept;  // active|idle|ephemeral|offline

}  // namespace buntime::pool
