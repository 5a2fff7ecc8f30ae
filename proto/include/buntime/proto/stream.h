// SPDX-License-Identifier: MIT
// The wire contract, part 2: how a message travels as frames. The one body writer
// (FrameSplitter) and the one reader of continuation frames (Reassembler, MessageAssembler)
// used by every peer.
//
// THE CONTINUATION RULE. A message's first frame has its own kind (messages.h) and its
// head. When kFlagMore is set on it, more frames of the same message follow: each has kind
// kContinuationKind (0xfffe), the same request_id, an empty head and the next body bytes,
// with kFlagMore set on all but the last. An empty last continuation is allowed (it only
// ends the body). A sender splits a body that does not fit one frame this way, and a
// streamed body (unknown length) is sent the same way as it is produced. A frame carries
// at most shm::Channel::maxPayload() bytes of head plus body; a head never spans frames.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "buntime/proto/messages.h"
#include "buntime/shm/channel.h"

namespace buntime::proto {

inline constexpr std::uint16_t kContinuationKind = 0xfffe;  // next frame of a message
inline constexpr std::uint16_t kFlagMore = 0x1;             // more frames of this message follow

constexpr bool isContinuation(const shm::FrameHeader& h) noexcept { return h.kind == kContinuationKind; }
constexpr bool hasMore(const shm::FrameHeader& h) noexcept { return (h.flags & kFlagMore) != 0; }

// The frame of a message that has no continuation: kind, request id, head, body.
inline shm::Outgoing frame(Kind kind, std::uint64_t request_id = 0, std::span<const std::byte> head = {},
                           std::span<const std::byte> body = {}, std::uint16_t flags = 0) noexcept {
    return shm::Outgoing{toWire(kind), flags, request_id, head, body};
}

// Splits one piece of a message into frames of at most `max_payload` bytes, in order.
// `piece` is the first piece of a message (its kind and head) or a later piece of a
// streamed message (kind kContinuationKind, no head). kFlagMore on `piece` means the
// message goes on after this piece's body. Always yields at least one frame.
// The spans of the frames point into `piece`, which must outlive them.
class FrameSplitter {
public:
    FrameSplitter(const shm::Outgoing& piece, std::size_t max_payload) noexcept;

    // False when the head alone does not fit a frame: the piece cannot be sent.
    bool valid() const noexcept { return piece_.head.size() <= max_payload_; }
    bool done() const noexcept { return done_; }
    // The next frame; only while valid() && !done().
    shm::Outgoing next() noexcept;

private:
    shm::Outgoing piece_;
    std::size_t max_payload_;
    std::size_t offset_ = 0;
    bool first_ = true;
    bool done_ = false;
};

// Follows the messages of one inbound ring whose first frame arrived and whose last has
// not, and applies the continuation rule to every continuation frame. T is the caller's
// state of an open message (its exchange, its buffer). Single-threaded.
template <typename T>
class Reassembler {
public:
    struct Slot {
        T state;
        std::uint64_t body_bytes = 0;  // of the whole message so far
        bool over_limit = false;       // the body passed max_body
    };
    struct Step {
        Slot* slot = nullptr;        // null: no open message with this id (cancelled, refused or a
                                     // stray frame): drop the frame
        bool last = false;           // the frame ends the message: call close() after using it
        bool crossed_limit = false;  // this frame took the body past max_body (reported once)
        bool malformed = false;      // a continuation with a head: the peer is broken
    };

    explicit Reassembler(std::uint64_t max_body) noexcept : max_body_(max_body) {}

    // After a first frame with kFlagMore: keeps `state` until the last continuation. An
    // older open message with the same id (a misbehaving peer) is replaced and its state
    // returned for the caller to dispose of.
    std::optional<T> open(std::uint64_t request_id, T state, std::uint64_t first_body_bytes) {
        Slot slot{std::move(state), first_body_bytes, first_body_bytes > max_body_};
        auto [it, inserted] = open_.try_emplace(request_id, std::move(slot));
        if (inserted) return std::nullopt;
        std::optional<T> old(std::move(it->second.state));
        it->second = std::move(slot);
        return old;
    }

    // A continuation frame (isContinuation(header)).
    Step next(const shm::FrameHeader& header) noexcept {
        Step step;
        if (header.head_len != 0) {
            step.malformed = true;
            return step;
        }
        auto it = open_.find(header.request_id);
        if (it == open_.end()) return step;
        Slot& slot = it->second;
        step.slot = &slot;
        step.last = !hasMore(header);
        slot.body_bytes += header.body_len;
        if (!slot.over_limit && slot.body_bytes > max_body_) {
            slot.over_limit = true;
            step.crossed_limit = true;
        }
        return step;
    }

    Slot* find(std::uint64_t request_id) noexcept {
        auto it = open_.find(request_id);
        return it == open_.end() ? nullptr : &it->second;
    }

    // Stops following a message (its last frame arrived, or it was cancelled).
    std::optional<T> close(std::uint64_t request_id) {
        auto it = open_.find(request_id);
        if (it == open_.end()) return std::nullopt;
        std::optional<T> state(std::move(it->second.state));
        open_.erase(it);
        return state;
    }

    std::size_t size() const noexcept { return open_.size(); }

private:
    std::unordered_map<std::uint64_t, Slot> open_;
    std::uint64_t max_body_;
};

// A whole message.
struct Message {
    std::uint16_t kind = 0;
    std::uint16_t flags = 0;  // flags of the first frame, kFlagMore cleared
    std::uint64_t request_id = 0;
    std::vector<std::byte> head;
    std::vector<std::byte> body;
};

// Collects whole messages from interleaved frames (for peers that want a body whole).
class MessageAssembler {
public:
    enum class Status {
        Complete,   // `out` holds a whole message
        Partial,    // the frame was taken; the message goes on
        Dropped,    // a continuation of no open message (cancelled or refused earlier)
        TooLarge,   // the body passed max_body: the message is refused, its later frames dropped
        Malformed,  // a continuation with a head: the peer is broken
    };

    explicit MessageAssembler(std::uint64_t max_body = std::uint64_t(1) << 40) noexcept
        : open_(max_body), max_body_(max_body) {}

    // Takes one frame (the caller releases it afterwards). Buffers of `out` are reused.
    Status add(const shm::FrameView& frame, Message& out);
    // Forgets an open message (its request was cancelled).
    void cancel(std::uint64_t request_id) { open_.close(request_id); }
    std::size_t openMessages() const noexcept { return open_.size(); }

private:
    Reassembler<Message> open_;
    std::uint64_t max_body_;
};

// Blocking helpers for peers with a thread to spare (worker start-up, tests, benches).
//
// Sends head + body as one message, split into continuation frames when the body does not
// fit one frame, so any size passes any ring. Ok | Timeout | PeerDead, or TooLarge when the
// head alone exceeds a frame.
shm::Error sendMessage(shm::Channel& channel, std::uint16_t kind, std::uint16_t flags, std::uint64_t request_id,
                       std::span<const std::byte> head, std::span<const std::byte> body,
                       std::chrono::nanoseconds timeout);
inline shm::Error sendMessage(shm::Channel& channel, Kind kind, std::uint64_t request_id,
                              std::span<const std::byte> head, std::span<const std::byte> body,
                              std::chrono::nanoseconds timeout) {
    return proto::sendMessage(channel, toWire(kind), 0, request_id, head, body, timeout);
}

// Receives one whole message; frames of other messages in between are an error here (use
// MessageAssembler when messages interleave). Ok | Timeout | PeerDead | Bad*, and
// BadLength for a broken continuation or a body over max_body.
shm::Error receiveMessage(shm::Channel& channel, Message& out, std::chrono::nanoseconds timeout,
                          std::uint64_t max_body = std::uint64_t(1) << 31);

}  // namespace buntime::proto
