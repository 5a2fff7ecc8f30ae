// SPDX-License-Identifier: MIT
// Names of the pool's enums (for logs and JSON) and Effects concatenation.
#include "buntime/pool/types.h"

#include <iterator>

namespace buntime::pool {

void Effects::append(Effects&& other) {
    actions.insert(actions.end(), std::make_move_iterator(other.actions.begin()),
                   std::make_move_iterator(other.actions.end()));
    grants.insert(grants.end(), other.grants.begin(), other.grants.end());
    failed.insert(failed.end(), other.failed.begin(), other.failed.end());
}

std::string_view toString(WorkerState state) noexcept {
    switch (state) {
    case WorkerState::Starting: return "starting";
    case WorkerState::Ready: return "ready";
    case WorkerState::Draining: return "draining";
    case WorkerState::Dead: return "dead";
    }
    return "unknown";
}

std::string_view toString(Outcome outcome) noexcept {
    switch (outcome) {
    case Outcome::Ok: return "ok";
    case Outcome::AppError: return "app-error";
    case Outcome::Timeout: return "timeout";
    case Outcome::Crash: return "crash";
    }
    return "unknown";
}

std::string_view toString(RetireReason reason) noexcept {
    switch (reason) {
    case RetireReason::TtlExpired: return "ttl-expired";
    case RetireReason::MaxRequests: return "max-requests";
    case RetireReason::Evicted: return "evicted";
    case RetireReason::Unhealthy: return "unhealthy";
    case RetireReason::Timeouts: return "timeouts";
    case RetireReason::Shutdown: return "shutdown";
    }
    return "unknown";
}

std::string_view toString(ActionKind kind) noexcept {
    switch (kind) {
    case ActionKind::Spawn: return "spawn";
    case ActionKind::Terminate: return "terminate";
    case ActionKind::Kill: return "kill";
    case ActionKind::NotifyIdle: return "notify-idle";
    }
    return "unknown";
}

std::string_view toString(AcquireKind kind) noexcept {
    switch (kind) {
    case AcquireKind::Use: return "use";
    case AcquireKind::Spawn: return "spawn";
    case AcquireKind::Wait: return "wait";
    case AcquireKind::Rejected: return "rejected";
    }
    return "unknown";
}

std::string_view toString(WorkerStatus status) noexcept {
    switch (status) {
    case WorkerStatus::Active: return "active";
    case WorkerStatus::Idle: return "idle";
    case WorkerStatus::Ephemeral: return "ephemeral";
    case WorkerStatus::Offline: return "offline";
    }
    return "unknown";
}

}  // namespace buntime::pool
