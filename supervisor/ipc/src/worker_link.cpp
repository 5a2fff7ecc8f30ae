// SPDX-License-Identifier: MIT
// WorkerLink: Asio-driven reading and writing of one worker's shm rings.
#include "buntime/ipc/worker_link.h"

#include <fcntl.h>

#include "buntime/proto/stream.h"

namespace buntime::ipc {
namespace asio = boost::asio;

namespace {

// Inbound frames handled per turn before yielding to other connections on the loop.
constexpr int kFramesPerTurn = 256;

// The bells are watched through duplicates that Asio owns (and closes); the channel keeps
// its own. CLOEXEC so they never leak into a worker spawned later.
int dupBell(int fd) noexcept { return ::fcntl(fd, F_DUPFD_CLOEXEC, 0); }

}  // namespace

WorkerLink::WorkerLink(asio::io_context& io, shm::Channel channel)
    : io_(io),
      channel_(std::move(channel)),
      inbound_bell_(io, dupBell(channel_.inboundBell())),
      space_bell_(io, dupBell(channel_.outboundSpaceBell())) {}

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
    drained_callbacks_.clear();
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
            close();  // the ring stays broken: stop reading, drop what was queued for it
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

bool WorkerLink::send(const shm::Outgoing& piece) {
    if (closed_) return false;
    proto::FrameSplitter frames(piece, channel_.maxPayload());
    if (!frames.valid()) return false;
    while (!frames.done()) {
        const shm::Outgoing frame = frames.next();
        // Once one frame waits, every later one queues behind it: order is the contract.
        if (pending_.empty() && sendOne(frame)) continue;
        enqueue(frame);
    }
    waitSpace();
    return true;
}

void WorkerLink::flushPending() {
    if (closed_) return;
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
