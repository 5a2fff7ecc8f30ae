// SPDX-License-Identifier: MIT
// Transitional: moved to proto/stream.h; removed after the merge (see compat.h).
// Whole messages over a Channel: a first frame plus continuation frames for big bodies.
#include "buntime/shm/compat.h"

#include <algorithm>

#include "buntime/base/clock.h"

namespace buntime::shm {
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

Error sendMessage(Channel& channel, std::uint16_t kind, std::uint16_t flags, std::uint64_t request_id,
                  std::span<const std::byte> head, std::span<const std::byte> body, std::chrono::nanoseconds timeout) {
    const auto deadline = deadlineAfter(timeout);
    const std::size_t max = channel.maxPayload();
    if (head.size() > max) return Error::TooLarge;
    std::size_t sent = std::min(body.size(), max - head.size());
    bool more = sent < body.size();
    Outgoing first{kind, std::uint16_t((flags & ~kFlagMore) | (more ? kFlagMore : 0)), request_id, head,
                   body.first(sent)};
    Error e = channel.send(first, remaining(deadline));
    while (e == Error::Ok && more) {
        const std::size_t n = std::min(max, body.size() - sent);
        more = sent + n < body.size();
        Outgoing next{kContinuationKind, std::uint16_t(more ? kFlagMore : 0), request_id, {}, body.subspan(sent, n)};
        e = channel.send(next, remaining(deadline));
        sent += n;
    }
    return e;
}

Error receiveMessage(Channel& channel, Message& out, std::chrono::nanoseconds timeout, std::size_t max_body) {
    const auto deadline = deadlineAfter(timeout);
    FrameView frame;
    Error e = channel.receive(frame, remaining(deadline));
    if (e != Error::Ok) return e;
    const FrameHeader& h = frame.header;
    if (h.kind == kContinuationKind || h.body_len > max_body) {
        channel.release();
        return Error::BadLength;
    }
    out.kind = h.kind;
    out.flags = std::uint16_t(h.flags & ~kFlagMore);
    out.request_id = h.request_id;
    out.head.assign(frame.head.begin(), frame.head.end());
    out.body.assign(frame.body.begin(), frame.body.end());  // keeps capacity across calls
    bool more = (h.flags & kFlagMore) != 0;
    channel.release();
    while (more) {
        e = channel.receive(frame, remaining(deadline));
        if (e != Error::Ok) return e;
        const FrameHeader& c = frame.header;
        if (c.kind != kContinuationKind || c.request_id != out.request_id || !frame.head.empty() ||
            c.body_len > max_body - out.body.size()) {
            channel.release();
            return Error::BadLength;
        }
        out.body.insert(out.body.end(), frame.body.begin(), frame.body.end());
        more = (c.flags & kFlagMore) != 0;
        channel.release();
    }
    return Error::Ok;
}

}  // namespace buntime::shm
