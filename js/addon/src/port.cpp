// SPDX-License-Identifier: MIT
// The JavaScript worker's end of a channel (port.h): proto/ frames to events and back.
#include "port.h"

#include <algorithm>

#include "buntime/base/clock.h"
#include "buntime/proto/control.h"

namespace buntime::js {
namespace {

using namespace std::chrono_literals;

// The largest payload this side writes in one frame: several fit the ring at once, so the
// supervisor drains one while the next is written.
constexpr std::size_t kFramePayloadCap = 64 * 1024;
// Frames taken per poll() before the batch is handed over.
constexpr int kBatchFrames = 256;

std::vector<std::byte> copyOf(std::span<const std::byte> bytes) { return {bytes.begin(), bytes.end()}; }

}  // namespace

base::Expected<std::unique_ptr<Port>, std::string> Port::open(std::string_view fds_text, std::uint64_t max_body) {
    auto fds = shm::ChannelFds::parse(fds_text);
    if (!fds) return std::string("BUNTIME_CHANNEL is malformed: " + shm::toString(fds.error()));
    auto channel = shm::Channel::open(*fds);
    if (!channel) return std::string("cannot open the channel: " + shm::toString(channel.error()));
    if (auto e = channel->watchParent(); e != shm::Error::Ok)
        return std::string("cannot watch the supervisor: " + std::string(shm::toString(e)));
    return std::make_unique<Port>(std::move(*channel), max_body);
}

Port::Port(shm::Channel channel, std::uint64_t max_body)
    : channel_(std::move(channel)),
      max_payload_(std::min<std::size_t>(channel_.maxPayload(), kFramePayloadCap)),
      max_body_(max_body),
      open_(max_body) {}

bool Port::poll(std::vector<Event>& out, std::chrono::nanoseconds timeout) {
    if (closed_) return false;
    shm::FrameView frame;
    shm::Error e = channel_.receive(frame, timeout);
    if (e == shm::Error::Timeout) {
        channel_.heartbeat();
        if (channel_.peerAlive()) return true;
        e = shm::Error::PeerDead;
    }
    for (int taken = 0; e == shm::Error::Ok; ++taken) {
        onFrame(frame, out);
        channel_.release();
        if (taken + 1 >= kBatchFrames) return true;
        e = channel_.tryReceive(frame);
    }
    if (e == shm::Error::WouldBlock) {
        channel_.heartbeat();
        return true;
    }
    closed_ = true;
    Event ev;
    ev.type = Event::Type::Closed;
    ev.reason = e == shm::Error::PeerDead ? "supervisor is gone"
                                          : "request ring is broken (" + std::string(shm::toString(e)) + ")";
    out.push_back(std::move(ev));
    return false;
}

void Port::onFrame(const shm::FrameView& frame, std::vector<Event>& out) {
    const auto kind = frame.header.kind;
    const std::uint64_t id = frame.header.request_id;
    if (kind == proto::toWire(proto::Kind::Request)) {
        Event ev;
        ev.type = Event::Type::Request;
        ev.id = id;
        ev.received_ns = base::monotonicNs();
        ev.more = proto::hasMore(frame.header);
        if (!proto::decodeRequestHeadInto(frame.head, ev.head)) {
            if (ev.more) open_.open(id, false, frame.body.size());
            sendError(id, "malformed request head");
            return;
        }
        ev.body = copyOf(frame.body);
        if (ev.more) open_.open(id, true, frame.body.size());
        out.push_back(std::move(ev));
        return;
    }
    if (proto::isContinuation(frame.header)) {
        const auto step = open_.next(frame.header);
        if (step.malformed) {
            if (open_.close(id)) sendError(id, "malformed continuation frame");
            return;
        }
        if (!step.slot) return;  // cancelled or refused
        if (step.slot->state) {
            Event ev;
            ev.type = Event::Type::Body;
            ev.id = id;
            ev.more = !step.last;
            if (step.crossed_limit) {
                ev.too_large = true;
                step.slot->state = false;  // drop the rest
            } else {
                ev.body = copyOf(frame.body);
            }
            out.push_back(std::move(ev));
        }
        if (step.last) open_.close(id);
        return;
    }
    if (kind == kPingKind) {
        // Liveness: answered here, whatever JavaScript is doing.
        std::lock_guard lock(send_mutex_);
        channel_.send(shm::Outgoing{kPongKind, 0, id, frame.head, frame.body}, 1s);
        return;
    }
    Event ev;
    ev.id = id;
    switch (static_cast<proto::Kind>(kind)) {
    case proto::Kind::Cancel:
        open_.close(id);
        ev.type = Event::Type::Cancel;
        break;
    case proto::Kind::Idle: ev.type = Event::Type::Idle; break;
    case proto::Kind::Terminate:
        ev.type = Event::Type::Terminate;
        ev.grace_ms = proto::decodeTerminate(frame.head).count();
        break;
    default: return;  // unknown kinds are dropped (a newer supervisor)
    }
    out.push_back(std::move(ev));
}

long Port::sendFrame(const shm::Outgoing& frame) {
    switch (channel_.trySend(frame)) {
    case shm::Error::Ok: return 0;
    case shm::Error::WouldBlock: return channel_.peerAlive() ? kWouldBlock : kClosed;
    case shm::Error::TooLarge: return kTooLarge;
    default: return kClosed;
    }
}

long Port::sendHead(std::uint64_t id, std::uint16_t status, std::span<const std::string> headers,
                    std::int64_t content_length, std::span<const std::byte> body, bool last,
                    std::uint64_t received_ns) {
    std::lock_guard lock(send_mutex_);
    head_builder_.reset();
    for (std::size_t i = 0; i + 1 < headers.size(); i += 2) head_builder_.addHeader(headers[i], headers[i + 1]);
    const std::uint64_t now = base::monotonicNs();
    if (last && content_length < 0) content_length = static_cast<std::int64_t>(body.size());
    auto head = head_builder_.finish(status, content_length, received_ns,
                                     received_ns && now > received_ns ? now - received_ns : 0, now);
    if (head.size() > max_payload_) return kTooLarge;
    const std::size_t take = std::min(body.size(), max_payload_ - head.size());
    const bool ends = last && take == body.size();
    const shm::Outgoing frame{proto::toWire(proto::Kind::Response), ends ? std::uint16_t{0} : proto::kFlagMore, id,
                              head, body.first(take)};
    if (long rc = sendFrame(frame); rc < 0) return rc;
    return static_cast<long>(take);
}

long Port::sendBody(std::uint64_t id, std::span<const std::byte> body, bool last) {
    std::lock_guard lock(send_mutex_);
    const std::size_t take = std::min(body.size(), max_payload_);
    const bool ends = last && take == body.size();
    const shm::Outgoing frame{
        proto::kContinuationKind, ends ? std::uint16_t{0} : proto::kFlagMore, id, {}, body.first(take)};
    if (long rc = sendFrame(frame); rc < 0) return rc;
    return static_cast<long>(take);
}

long Port::sendError(std::uint64_t id, std::string_view reason) {
    std::lock_guard lock(send_mutex_);
    return sendFrame(proto::frame(proto::Kind::Error, id, proto::bytesOf(proto::encodeReason(reason))));
}

bool Port::sendReady(std::uint32_t concurrency) {
    const auto info = proto::encode(proto::ReadyInfo{"js", 1, concurrency});
    std::lock_guard lock(send_mutex_);
    return channel_.send(proto::frame(proto::Kind::Ready, 0, info), 5s) == shm::Error::Ok;
}

bool Port::sendInitFailed(std::string_view reason) {
    std::lock_guard lock(send_mutex_);
    return channel_.send(proto::frame(proto::Kind::InitFailed, 0, proto::bytesOf(proto::encodeReason(reason))), 5s) ==
           shm::Error::Ok;
}

bool Port::armSpace(std::size_t bytes) {
    std::lock_guard lock(send_mutex_);
    return channel_.armWritable(std::min(bytes, max_payload_ + 64));
}

}  // namespace buntime::js
