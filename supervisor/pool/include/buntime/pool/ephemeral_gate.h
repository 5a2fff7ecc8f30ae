// SPDX-License-Identifier: MIT
// Admission gate for ttl: 0 apps: at most `concurrency` run at once, a bounded FIFO waits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "buntime/pool/types.h"

namespace buntime::pool {

enum class GateDecision : std::uint8_t {
    Admitted,  // run now; call leave() when the ephemeral worker is done
    Queued,    // parked; a later leave() returns this ticket when it is admitted
    Rejected,  // queue full: answer 503 EPHEMERAL_WORKER_QUEUE_SATURATED with Retry-After
};

// Pure bookkeeping; not thread-safe (owned by the supervisor's event loop).
class EphemeralGate {
public:
    // concurrency is clamped to >= 1; queueLimit 0 means "never queue".
    EphemeralGate(std::size_t concurrency, std::size_t queueLimit);

    GateDecision tryEnter(Ticket ticket);
    // An admitted ticket finished. Returns the queued ticket now admitted (FIFO), if any.
    std::optional<Ticket> leave();
    // Removes a queued ticket (client left, queue wait timed out). False if not queued;
    // an admitted ticket must leave() instead.
    bool cancel(Ticket ticket);
    // Empties the queue (shutdown); the caller answers each returned ticket.
    std::vector<Ticket> clearQueue();

    std::size_t active() const noexcept { return active_; }
    std::size_t queueDepth() const noexcept { return queue_.size(); }
    std::size_t queueLimit() const noexcept { return queue_limit_; }
    std::size_t concurrency() const noexcept { return concurrency_; }
    std::uint64_t rejected() const noexcept { return rejected_; }

private:
    std::size_t concurrency_;
    std::size_t queue_limit_;
    std::size_t active_ = 0;
    std::uint64_t rejected_ = 0;
    std::deque<Ticket> queue_;
};

}  // namespace buntime::pool
