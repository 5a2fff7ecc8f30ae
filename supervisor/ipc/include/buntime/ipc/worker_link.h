// SPDX-License-Identifier: MIT
// The supervisor's end of one worker channel inside an Asio event loop: drains inbound
// frames when the worker rings, and queues outbound frames while the request ring is full.
// Outbound pieces are split into frames by the wire contract's rule (proto/stream.h);
// inbound frames are handed over as they come (reassembly is the caller's).
//
// Thread-safety: single-threaded; every method runs on the io_context that owns the link.
// A full ring never blocks the loop: frames wait in a bounded-by-caller pending queue.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "buntime/shm/channel.h"

namespace buntime::ipc {

class WorkerLink {
public:
    // Called for each inbound frame; the view is valid only during the call.
    using FrameHandler = std::function<void(const shm::FrameView&)>;
    // Called once when the worker wrote something invalid; the link stops reading.
    using BrokenHandler = std::function<void(shm::Error)>;

    WorkerLink(boost::asio::io_context& io, shm::Channel channel);
    ~WorkerLink();
    WorkerLink(const WorkerLink&) = delete;
    WorkerLink& operator=(const WorkerLink&) = delete;

    void start(FrameHandler on_frame, BrokenHandler on_broken);
    void close();

    // Sends one piece of a message (proto::FrameSplitter): the first piece carries the kind
    // and head, a later piece of a streamed body has kind proto::kContinuationKind;
    // proto::kFlagMore on it means more pieces of the message follow. A body larger than a
    // frame goes as continuation frames. Each frame is written into the ring now, or copied
    // into the pending queue while the ring is full (sent in order as space frees; a frame
    // never overtakes a queued one). Returns false after close() or when the head alone
    // exceeds maxPayload(); nothing is sent then.
    bool send(const shm::Outgoing& piece);
    std::size_t pendingBytes() const noexcept { return pending_bytes_; }
    // Runs `callback` once, when the pending queue becomes empty (immediately if it is).
    // After close() a pending callback never runs.
    void whenDrained(std::function<void()> callback);

    // Backpressure from slow clients: while paused no inbound frames are read, so the
    // worker's response ring fills and the worker blocks instead of our memory growing.
    void pauseReading();
    void resumeReading();
    bool readingPaused() const noexcept { return paused_ > 0; }

    shm::Channel& channel() noexcept { return channel_; }
    std::size_t maxPayload() const noexcept { return channel_.maxPayload(); }

private:
    struct PendingFrame {
        std::uint16_t kind;
        std::uint16_t flags;
        std::uint64_t request_id;
        std::vector<std::byte> head;
        std::vector<std::byte> body;
    };

    void drainInbound();
    void waitInbound();
    void flushPending();
    void waitSpace();
    bool sendOne(const shm::Outgoing& frame);
    void enqueue(const shm::Outgoing& frame);

    boost::asio::io_context& io_;
    shm::Channel channel_;
    boost::asio::posix::stream_descriptor inbound_bell_;
    boost::asio::posix::stream_descriptor space_bell_;
    FrameHandler on_frame_;
    BrokenHandler on_broken_;
    std::deque<PendingFrame> pending_;
    std::size_t pending_bytes_ = 0;
    std::vector<std::function<void()>> drained_callbacks_;
    int paused_ = 0;
    bool inbound_waiting_ = false;
    bool space_waiting_ = false;
    bool draining_ = false;
    bool closed_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace buntime::ipc
