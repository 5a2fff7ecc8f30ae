// SPDX-License-Identifier: MIT
// Frames of a message: splitting, reassembly and the blocking send/receive helpers.
#include "buntime/proto/stream.h"

#include <algorithm>

#include "buntime/base/clock.h"

namespace buntime::proto {
namespace {

using base::Clock;

Clock::time_point deadlineAfter(std::chrono::nanoseconds timeout) {
    const auto now = Clock::now();
    if (timeout > Clock::time_point::max() - now) return Clock::time_point::max();
    return now + timeout;
}

std::chrono::nanoseconds remaining(Clock::time_point deadline) {
    if (deadline == Clock::time_point::max()) return std::chrono::nanoseconds::max();
    const auto left = deadline - Clock::now();
    return left.count() > 0 ? std::chrono::duration_cast<std::chrono::nanoseconds>(left) : std::chrono::nanoseconds(0);
}

}  // namespace

FrameSplitter::FrameSplitter(const shm::Outgoing& piece, std::size_t max_payload) noexcept
    : piece_(piece), max_payload_(max_payload) {}

shm::Outgoing FrameSplitter::next() noexcept {
    const bool message_goes_on = (piece_.flags & kFlagMore) != 0;
    shm::Outgoing out;
    out.request_id = piece_.request_id;
    std::size_t room = max_payload_;
    if (first_) {
        out.kind = piece_.kind;
        out.head = piece_.head;
        room -= piece_.head.size();
    } else {
        out.kind = kContinuationKind;
    }
    const std::size_t n = std::min(room, piece_.body.size() - offset_);
    out.body = piece_.body.subspan(offset_, n);
    offset_ += n;
    done_ = offset_ == piece_.body.size();
    const auto upper = static_cast<std::uint16_t>(first_ ? (piece_.flags & ~kFlagMore) : 0);
    out.flags = static_cast<std::uint16_t>(upper | ((!done_ || message_goes_on) ? kFlagMore : 0));
    first_ = false;
    return out;
}

MessageAssembler::Status MessageAssembler::add(const shm::FrameView& frame, Message& out) {
    const auto& h = frame.header;
    if (!isContinuation(h)) {
        if (!hasMore(h)) {
            if (h.body_len > max_body_) return Status::TooLarge;
            out.kind = h.kind;
            out.flags = h.flags;
            out.request_id = h.request_id;
            out.head.assign(frame.head.begin(), frame.head.end());
            out.body.assign(frame.body.begin(), frame.body.end());  // keeps capacity across calls
            return Status::Complete;
        }
        // Start in `out`'s buffers so their capacity is reused, and hand them back at the end.
        Message m;
        m.kind = h.kind;
        m.flags = static_cast<std::uint16_t>(h.flags & ~kFlagMore);
        m.request_id = h.request_id;
        m.head = std::move(out.head);
        m.body = std::move(out.body);
        m.head.assign(frame.head.begin(), frame.head.end());
        if (h.body_len <= max_body_) m.body.assign(frame.body.begin(), frame.body.end());
        open_.open(h.request_id, std::move(m), h.body_len);
        return h.body_len > max_body_ ? Status::TooLarge : Status::Partial;
    }
    auto step = open_.next(h);
    if (step.malformed) return Status::Malformed;
    if (!step.slot) return Status::Dropped;
    Status status = Status::Partial;
    if (step.crossed_limit) {
        status = Status::TooLarge;
        step.slot->state.body = {};
    } else if (step.slot->over_limit) {
        status = Status::Dropped;
    } else {
        auto& body = step.slot->state.body;
        body.insert(body.end(), frame.body.begin(), frame.body.end());
    }
    if (step.last) {
        const bool whole = !step.slot->over_limit;
        auto m = open_.close(h.request_id);
        if (whole && m) {
            out = std::move(*m);
            return Status::Complete;
        }
    }
    return status;
}

shm::Error sendMessage(shm::Channel& channel, std::uint16_t kind, std::uint16_t flags, std::uint64_t request_id,
                       std::span<const std::byte> head, std::span<const std::byte> body,
                       std::chrono::nanoseconds timeout) {
    const auto deadline = deadlineAfter(timeout);
    const shm::Outgoing piece{kind, static_cast<std::uint16_t>(flags & ~kFlagMore), request_id, head, body};
    FrameSplitter frames(piece, channel.maxPayload());
    if (!frames.valid()) return shm::Error::TooLarge;
    shm::Error e = shm::Error::Ok;
    while (e == shm::Error::Ok && !frames.done()) e = channel.send(frames.next(), remaining(deadline));
    return e;
}

shm::Error receiveMessage(shm::Channel& channel, Message& out, std::chrono::nanoseconds timeout,
                          std::uint64_t max_body) {
    const auto deadline = deadlineAfter(timeout);
    MessageAssembler assembler(max_body);
    for (bool first = true;; first = false) {
        shm::FrameView frame;
        const shm::Error e = channel.receive(frame, remaining(deadline));
        if (e != shm::Error::Ok) return e;
        // One message at a time: a continuation first, or another message's frame in
        // between, breaks the sequence.
        const bool in_sequence = first ? !isContinuation(frame.header)
                                       : isContinuation(frame.header) && frame.header.request_id == out.request_id;
        const auto status = in_sequence ? assembler.add(frame, out) : MessageAssembler::Status::Malformed;
        channel.release();
        if (status == MessageAssembler::Status::Complete) return shm::Error::Ok;
        if (status != MessageAssembler::Status::Partial) return shm::Error::BadLength;
        if (first) out.request_id = frame.header.request_id;
    }
}

}  // namespace buntime::proto
