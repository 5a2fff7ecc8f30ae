// SPDX-License-Identifier: MIT
// EphemeralGate: admission up to the concurrency, FIFO queue, overflow rejection, cancel.
#include <doctest/doctest.h>

#include "buntime/pool/ephemeral_gate.h"

using namespace buntime::pool;

TEST_CASE("admits up to the concurrency, then queues, then rejects") {
    EphemeralGate gate(2, 3);
    CHECK(gate.concurrency() == 2);
    CHECK(gate.queueLimit() == 3);
    CHECK(gate.tryEnter(1) == GateDecision::Admitted);
    CHECK(gate.tryEnter(2) == GateDecision::Admitted);
    CHECK(gate.active() == 2);
    CHECK(gate.tryEnter(3) == GateDecision::Queued);
    CHECK(gate.tryEnter(4) == GateDecision::Queued);
    CHECK(gate.tryEnter(5) == GateDecision::Queued);
    CHECK(gate.queueDepth() == 3);
    CHECK(gate.tryEnter(6) == GateDecision::Rejected);
    CHECK(gate.rejected() == 1);
    CHECK(gate.queueDepth() == 3);
    CHECK(gate.active() == 2);
}

TEST_CASE("leave admits queued tickets in FIFO order") {
    EphemeralGate gate(1, 10);
    REQUIRE(gate.tryEnter(1) == GateDecision::Admitted);
    for (Ticket t = 2; t <= 5; ++t) REQUIRE(gate.tryEnter(t) == GateDecision::Queued);
    for (Ticket expected = 2; expected <= 5; ++expected) {
        auto next = gate.leave();
        REQUIRE(next.has_value());
        CHECK(*next == expected);
        CHECK(gate.active() == 1);
    }
    CHECK_FALSE(gate.leave().has_value());
    CHECK(gate.active() == 0);
    CHECK(gate.queueDepth() == 0);
    CHECK(gate.tryEnter(6) == GateDecision::Admitted);
}

TEST_CASE("a queued ticket can be cancelled; its place is freed") {
    EphemeralGate gate(1, 2);
    REQUIRE(gate.tryEnter(1) == GateDecision::Admitted);
    REQUIRE(gate.tryEnter(2) == GateDecision::Queued);
    REQUIRE(gate.tryEnter(3) == GateDecision::Queued);
    CHECK(gate.tryEnter(4) == GateDecision::Rejected);
    CHECK(gate.cancel(2));
    CHECK_FALSE(gate.cancel(2));
    CHECK_FALSE(gate.cancel(1));  // admitted, not queued
    CHECK(gate.queueDepth() == 1);
    CHECK(gate.tryEnter(4) == GateDecision::Queued);
    CHECK(gate.leave() == std::optional<Ticket>{3});
    CHECK(gate.leave() == std::optional<Ticket>{4});
    CHECK_FALSE(gate.leave().has_value());
}

TEST_CASE("queue limit 0 never queues; concurrency is at least 1; clearQueue returns the queue") {
    EphemeralGate none(3, 0);
    CHECK(none.tryEnter(1) == GateDecision::Admitted);
    CHECK(none.tryEnter(2) == GateDecision::Admitted);
    CHECK(none.tryEnter(3) == GateDecision::Admitted);
    CHECK(none.tryEnter(4) == GateDecision::Rejected);

    EphemeralGate clamped(0, 5);
    CHECK(clamped.concurrency() == 1);
    CHECK(clamped.tryEnter(1) == GateDecision::Admitted);
    CHECK(clamped.tryEnter(2) == GateDecision::Queued);
    CHECK(clamped.tryEnter(3) == GateDecision::Queued);
    CHECK(clamped.clearQueue() == std::vector<Ticket>{2, 3});
    CHECK(clamped.queueDepth() == 0);
    CHECK_FALSE(clamped.leave().has_value());
}

TEST_CASE("a newcomer does not overtake the queue while a slot frees up") {
    EphemeralGate gate(1, 5);
    REQUIRE(gate.tryEnter(1) == GateDecision::Admitted);
    REQUIRE(gate.tryEnter(2) == GateDecision::Queued);
    auto next = gate.leave();  // 2 takes the slot
    REQUIRE(next == std::optional<Ticket>{2});
    CHECK(gate.tryEnter(3) == GateDecision::Queued);
}
