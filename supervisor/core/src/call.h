// SPDX-License-Identifier: MIT
// One request on its way through the dispatcher, and the states it goes through.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "buntime/base/clock.h"
#include "buntime/pool/types.h"
#include "buntime/router/manifest.h"
#include "buntime/router/path.h"
#include "buntime/router/resolver.h"
#include "buntime/supervisor/client.h"

namespace buntime::supervisor {

// A request with a small body (content-length up to Dispatcher::kSingleFrameBody) is first
// Receiving: its body is read whole before it may take a worker slot or spawn a worker.
//   pooled app:    Parked ──grant──▶ Sent ──head──▶ Responding ──last frame──▶ Done
//                     └────────── Use ───▶ (Sent)
//   ephemeral app: Queued ──slot──▶ Spawning ──ready──▶ Sent ──▶ Responding ──▶ Done
//                    └── a free slot at once ──▶ (Spawning)
// Every call starts in Routing; any state goes to Done on an error, a deadline or the
// client leaving.
enum class CallState : std::uint8_t {
    Routing,     // accepted; not yet queued, parked or sent
    Receiving,   // reading its small body before admission (holds no slot)
    Queued,      // ephemeral: waiting in the gate's queue for a slot
    Parked,      // pooled: waiting for a worker of its key (starting, or at its concurrency)
    Spawning,    // ephemeral: admitted; its own worker is starting
    Sent,        // the request is with the worker (its body still streams if it has one)
    Responding,  // the response head was relayed; body frames follow
    Done,        // answered, failed or abandoned: every later event for it is ignored
};

struct Call {
    std::uint64_t id = 0;
    std::shared_ptr<Client> client;
    router::ResolvedApp app;
    std::shared_ptr<const router::Manifest> manifest;
    router::ParsedTarget target;
    bool ephemeral = false;
    CallState state = CallState::Routing;
    pool::WorkerId worker = 0;  // the worker serving it (or, while Parked, none)
    base::TimePoint started;
    base::TimePoint deadline;        // checked by the tick: a timer per request costs more than the sweep
    std::uint64_t sent_ns = 0;       // when the head went into the ring (IPC timing)
    std::size_t client_backlog = 0;  // response bytes handed to the client, not yet written
    bool paused_worker = false;      // this call stopped reading its worker's ring (a slow client)
    std::string body;                // a small body read before admission (body_complete)
    bool body_complete = false;

    bool done() const noexcept { return state == CallState::Done; }
    bool waiting() const noexcept { return state == CallState::Queued || state == CallState::Parked; }
    // An ephemeral call that holds one of the gate's slots.
    bool holdsGateSlot() const noexcept {
        return ephemeral &&
               (state == CallState::Spawning || state == CallState::Sent || state == CallState::Responding);
    }
};

}  // namespace buntime::supervisor
