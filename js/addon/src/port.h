// SPDX-License-Identifier: MIT
// The JavaScript worker's end of a channel: frames in as events, responses out as frames.
//
// Threads: poll() runs on one reader thread; the send* calls and armSpace()/waitSpace() may
// run on any thread (one mutex serializes the producer side of the outbound ring, so the
// reader can answer Ping while JavaScript writes responses). No call here touches Node-API.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/base/expected.h"
#include "buntime/proto/messages.h"
#include "buntime/proto/stream.h"
#include "buntime/shm/channel.h"

namespace buntime::js {

// Liveness probe on the control ring (numeric values: the kinds may not be in messages.h yet).
inline constexpr std::uint16_t kPingKind = 9;
inline constexpr std::uint16_t kPongKind = 10;

struct Event {
    enum class Type : std::uint8_t { Request, Body, Cancel, Idle, Terminate, Closed, Space };
    Type type = Type::Closed;
    std::uint64_t id = 0;
    proto::RequestHead head;      // Request
    std::vector<std::byte> body;  // Request (first piece), Body
    bool more = false;            // Request, Body: more body frames follow
    bool too_large = false;       // Body: the body passed max_body (its frames are dropped from here on)
    std::uint64_t received_ns = 0;
    std::int64_t grace_ms = 0;  // Terminate
    std::string reason;         // Closed
};

class Port {
public:
    // Negative results of the send calls; a non-negative one is the body bytes taken.
    static constexpr long kWouldBlock = -1;  // the ring is full: nothing was written; armSpace and retry
    static constexpr long kClosed = -2;      // the supervisor is gone
    static constexpr long kTooLarge = -3;    // the head alone does not fit a frame

    // `fds_text` is BUNTIME_CHANNEL's value. The error says what failed.
    static base::Expected<std::unique_ptr<Port>, std::string> open(std::string_view fds_text, std::uint64_t max_body);
    // For tests: a port over a channel opened by the caller.
    Port(shm::Channel channel, std::uint64_t max_body);

    // Reader thread: waits up to `timeout` for frames and appends what they mean to `out`
    // (several frames per call when they are waiting). Answers Ping itself. Returns false
    // once the channel is over (a Closed event is appended then, and only once).
    bool poll(std::vector<Event>& out, std::chrono::nanoseconds timeout);

    std::size_t maxPayload() const noexcept { return max_payload_; }

    // One frame each (never blocks). sendHead starts the response of `id`; `headers` are
    // name/value pairs; `body` the first bytes of the body, of which as many as fit go with the
    // head; `last`: the response ends with `body`. sendBody continues it.
    long sendHead(std::uint64_t id, std::uint16_t status, std::span<const std::string> headers,
                  std::int64_t content_length, std::span<const std::byte> body, bool last, std::uint64_t received_ns);
    long sendBody(std::uint64_t id, std::span<const std::byte> body, bool last);
    long sendError(std::uint64_t id, std::string_view reason);
    // Blocking, for start-up: Ready or InitFailed (up to 5 s).
    bool sendReady(std::uint32_t concurrency);
    bool sendInitFailed(std::string_view reason);

    // Space waiting for a full ring: true when `bytes` of payload fit now; otherwise the
    // producer is marked asleep and outboundSpaceBell() rings when the consumer frees space.
    bool armSpace(std::size_t bytes);
    int spaceBell() const noexcept { return channel_.outboundSpaceBell(); }
    bool alive() const noexcept { return channel_.peerAlive(); }

private:
    long sendFrame(const shm::Outgoing& frame);
    void onFrame(const shm::FrameView& frame, std::vector<Event>& out);

    shm::Channel channel_;
    std::mutex send_mutex_;
    std::size_t max_payload_;
    std::uint64_t max_body_;
    proto::Reassembler<bool> open_;            // request bodies still arriving; state: still wanted
    proto::ResponseHeadBuilder head_builder_;  // guarded by send_mutex_
    bool closed_ = false;
};

}  // namespace buntime::js
