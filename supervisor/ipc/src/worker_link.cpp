// SPDX-License-Identifier: MIT
// WorkerLink: Asio-driven reading and writing of one worker's shm rings.
#include "buntime/ipc/worker_link.h"

#include <unistd.h>

#include <algorithm>

namespace buntime::ipc {
namespace asio = boost::asio;

namespace {
// Inbound frames handled per turn before yielding to other connections on the loop.
constexpr int kFramesPerTurn = 256;
}  // namespace

WorkerLink::WorkerLink(asio::io_context& io, shm::Channel channel)
    : io_(io),
      channel_(std::move(channel)),
      inbound_bell_(io, ::dup(channel_.inboundBell())),
      space_bell_(io, ::dup(channel_.outboundSpaceBell())) {}

WorkerLink::~WorkerLink() {
    *alive_ = false;
    close();
}

void WorkerLink::start(FrameHandler on_frame, BrokenHandler on_broken) {
    on_frame_ = std::move(on_frame);
    on_broken_ = std::move(on_broken);
    drainInbound();
}

void WorkerLink::close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    inbound_bell_.cancel(ignored);
    space_bell_.cancel(ignored);
    inbound_bell_.close(ignored);
    space_bell_.close(ignored);
    pending_.clear();
    pending_bytes_ = 0;
}

void WorkerLink::drainInbound() {
    if (closed_ || paused_ > 0 || draining_) return;
    draining_ = true;
    auto alive = alive_;
    for (int handled = 0;; ++handled) {
        if (handled == kFramesPerTurn) {
            // Yield so one busy worker cannot starve the accept loop and other workers.
            draining_ = false;
            asio::post(io_, [this, alive] {
                if (*alive) drainInbound();
            });
            return;
        }
        shm::FrameView frame;
        auto err = channel_.tryReceive(frame);
        if (err == shm::Error::WouldBlock) {
            if (channel_.armReadable()) continue;  // raced with the producer: data is there
            draining_ = false;
            waitInbound();
            return;
        }
        if (err != shm::Error::Ok) {
            draining_ = false;
            closed_ = true;
            if (on_broken_) on_broken_(err);
            return;
        }
        on_frame_(frame);
        if (!*alive) return;  // the handler destroyed this link (worker retired)
        channel_.release();
        if (closed_) {
            draining_ = false;
            return;
        }
        if (paused_ > 0) {
            draining_ = false;
            return;
        }
    }
}

void WorkerLink::waitInbound() {
    if (inbound_waiting_ || closed_) return;
    inbound_waiting_ = true;
    auto alive = alive_;
    inbound_bell_.async_wait(asio::posix::stream_descriptor::wait_read, [this, alive](boost::system::error_code ec) {
        if (!*alive) return;
        inbound_waiting_ = false;
        if (ec || closed_) return;
        shm::Channel::drainBell(inbound_bell_.native_handle());
        drainInbound();
    });
}

void WorkerLink::pauseReading() { ++paused_; }

void WorkerLink::resumeReading() {
    if (paused_ == 0) return;
    if (--paused_ == 0) {
        auto alive = alive_;
        asio::post(io_, [this, alive] {
            if (*alive) drainInbound();
        });
    }
}

bool WorkerLink::sendOne(const shm::Outgoing& frame) {
    auto err = channel_.trySend(frame);
    return err == shm::Error::Ok;
}

void WorkerLink::enqueue(const shm::Outgoing& frame) {
    PendingFrame p{frame.kind, frame.flags, frame.request_id,
                   std::vector<std::byte>(frame.head.begin(), frame.head.end()),
                   std::vector<std::byte>(frame.body.begin(), frame.body.end())};
    pending_bytes_ += p.head.size() + p.body.size();
    pending_.push_back(std::move(p));
}

bool WorkerLink::send(const shm::Outgoing& frame) {
    if (closed_) return false;
    const std::size_t max = channel_.maxPayload();
    if (frame.head.size() + frame.body.size() <= max) {
        if (pending_.empty() && sendOne(frame)) return true;
        enqueue(frame);
        waitSpace();
        return true;
    }
    // Split: the first frame keeps the kind and head, the rest are continuations.
    if (frame.head.size() >= max) return false;  // a head never exceeds a frame
    std::size_t first = max - frame.head.size();
    std::size_t offset = 0;
    bool first_frame = true;
    while (offset < frame.body.size() || first_frame) {
        std::size_t room = first_frame ? first : max;
        std::size_t n = std::min(room, frame.body.size() - offset);
        bool last = offset + n == frame.body.size();
        shm::Outgoing part;
        part.kind = first_frame ? frame.kind : shm::kContinuationKind;
        const auto upper = static_cast<std::uint16_t>(frame.flags & ~shm::kFlagMore);
        const bool more_after = (frame.flags & shm::kFlagMore) != 0;
        part.flags =
            static_cast<std::uint16_t>((first_frame ? upper : 0) | ((!last || more_after) ? shm::kFlagMore : 0));
        part.request_id = frame.request_id;
        if (first_frame) part.head = frame.head;
        part.body = frame.body.subspan(offset, n);
        if (!(pending_.empty() && sendOne(part))) {
            enqueue(part);
            waitSpace();
        }
        offset += n;
        first_frame = false;
    }
    return true;
}

void WorkerLink::flushPending() {
    while (!pending_.empty()) {
        auto& p = pending_.front();
        shm::Outgoing out{p.kind, p.flags, p.request_id, p.head, p.body};
        if (!sendOne(out)) {
            waitSpace();
            return;
        }
        pending_bytes_ -= p.head.size() + p.body.size();
        pending_.pop_front();
    }
    auto callbacks = std::move(drained_callbacks_);
    drained_callbacks_.clear();
    for (auto& cb : callbacks) cb();
}

void WorkerLink::waitSpace() {
    if (space_waiting_ || closed_ || pending_.empty()) return;
    const auto& p = pending_.front();
    if (channel_.armWritable(p.head.size() + p.body.size())) {
        auto alive = alive_;
        asio::post(io_, [this, alive] {
            if (*alive) flushPending();
        });
        return;
    }
    space_waiting_ = true;
    auto alive = alive_;
    space_bell_.async_wait(asio::posix::stream_descriptor::wait_read, [this, alive](boost::system::error_code ec) {
        if (!*alive) return;
        space_waiting_ = false;
        if (ec || closed_) return;
        shm::Channel::drainBell(space_bell_.native_handle());
        flushPending();
    });
}

void WorkerLink::whenDrained(std::function<void()> callback) {
    if (pending_.empty()) {
        callback();
        return;
    }
    drained_callbacks_.push_back(std::move(callback));
}

}  // namespace buntime::ipc
