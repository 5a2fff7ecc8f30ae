// SPDX-License-Identifier: MIT
// EphemeralGate: concurrency limit plus a bounded FIFO for ttl: 0 requests.
#include "buntime/pool/ephemeral_gate.h"

#include <algorithm>

namespace buntime::pool {

EphemeralGate::EphemeralGate(std::size_t concurrency, std::size_t queueLimit)
    : concurrency_(std::max<std::size_t>(concurrency, 1)), queue_limit_(queueLimit) {}

GateDecision EphemeralGate::tryEnter(Ticket ticket) {
    if (active_ < concurrency_ && queue_.empty()) {
        ++active_;
        return GateDecision::Admitted;
    }
    if (queue_.size() >= queue_limit_) {
        ++rejected_;
        return GateDecision::Rejected;
    }
    queue_.push_back(ticket);
    return GateDecision::Queued;
}

std::optional<Ticket> EphemeralGate::leave() {
    if (active_ > 0) --active_;
    if (queue_.empty() || active_ >= concurrency_) return std::nullopt;
    Ticket next = queue_.front();
    queue_.pop_front();
    ++active_;
    return next;
}

bool EphemeralGate::cancel(Ticket ticket) {
    auto it = std::find(queue_.begin(), queue_.end(), ticket);
    if (it == queue_.end()) return false;
    queue_.erase(it);
    return true;
}

std::vector<Ticket> EphemeralGate::clearQueue() {
    std::vector<Ticket> out(queue_.begin(), queue_.end());
    queue_.clear();
    return out;
}

}  // namespace buntime::pool
