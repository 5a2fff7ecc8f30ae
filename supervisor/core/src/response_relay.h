// SPDX-License-Identifier: MIT
// Relays a worker's response frames to the client: the head (status, headers, length), then
// body frames, pausing the worker's ring while a slow client has too much unwritten.
// Core-loop only; it owns no calls, the dispatcher does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "buntime/pool/types.h"
#include "buntime/shm/channel.h"
#include "call.h"
#include "ipc_stats.h"
#include "worker_host.h"

namespace buntime::supervisor {

class ResponseRelay {
public:
    // Response bytes a client may have queued before its worker's ring is paused.
    static constexpr std::size_t kClientBacklogLimit = 1 << 20;

    enum class Step {
        More,       // body frames follow
        Complete,   // the response is complete: the dispatcher finishes the call
        Malformed,  // the head did not decode: the dispatcher fails the call (502)
    };
    struct Result {
        Step step = Step::More;
        pool::Outcome outcome = pool::Outcome::Ok;
    };

    ResponseRelay(WorkerHost& host, IpcStats& stats) : host_(host), stats_(stats) {}

    // A Response frame for `call` (state Sent).
    Result onHead(const std::shared_ptr<Call>& call, const shm::FrameView& frame, std::uint64_t now_ns);
    // A continuation frame for `call`. Body bytes before the head are dropped.
    Result onBody(const std::shared_ptr<Call>& call, const shm::FrameView& frame);
    // The call ends: if it paused its worker's ring, reading resumes.
    void release(Call& call);

private:
    void writeBody(const std::shared_ptr<Call>& call, std::span<const std::byte> body);

    WorkerHost& host_;
    IpcStats& stats_;
};

}  // namespace buntime::supervisor
