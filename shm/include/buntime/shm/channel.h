// SPDX-License-Identifier: MIT
// A channel between the supervisor and one worker: a memfd segment holding two SPSC
// rings, four eventfd doorbells, and the peer's pidfd for liveness.
//
// Ownership: the supervisor creates (Channel::create) and owns the segment; the worker
// opens what it inherited (Channel::open). Closing the last fd frees the memory, so
// nothing is left in /dev/shm.
//
// Thread-safety: a Channel is used by one producer thread and one consumer thread at a
// time on each side (callers serialize their sends and their receives). Nothing is
// shared between processes but atomics: a peer that dies mid-write never hangs us.
//
// A ring carries frames (layout.h). Their kinds and flags are opaque here apart from the
// pad kind 0xffff; how a message spans several frames is the wire contract (proto/stream.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "buntime/shm/error.h"
#include "buntime/shm/layout.h"

namespace buntime::shm {

enum class Side : std::uint8_t { Supervisor, Worker };

struct ChannelConfig {
    std::size_t ring_bytes = 256 * 1024;                            // per ring, rounded up to a power of two
    std::uint32_t generation = 1;                                   // stamped on every frame
    std::chrono::nanoseconds spin = std::chrono::microseconds(30);  // bounded spin before sleeping
};

// Descriptors a worker inherits; serialized into env BUNTIME_CHANNEL as "memfd,a,b,c,d".
struct ChannelFds {
    int segment = -1;
    int to_worker_data = -1;       // rung by supervisor: request ring went non-empty
    int to_worker_space = -1;      // rung by worker: request ring has space again
    int to_supervisor_data = -1;   // rung by worker: response ring went non-empty
    int to_supervisor_space = -1;  // rung by supervisor: response ring has space again

    std::string toString() const;
    // Five decimal numbers separated by commas, nothing else; Failure BadLength otherwise.
    static Expected<ChannelFds> parse(std::string_view text);
};

// One frame as seen by the consumer: spans point into the ring and stay valid until
// release(). Lengths and magic are validated before this is returned.
struct FrameView {
    FrameHeader header{};
    std::span<const std::byte> head;
    std::span<const std::byte> body;
};

// One frame to publish. shm/ carries kind, flags and request_id without reading them; the
// only kind it interprets is its own pad (kPadKind, 0xffff), which a sender never uses.
// What kinds and flags mean is the wire contract's business (proto/).
struct Outgoing {
    std::uint16_t kind = 0;
    std::uint16_t flags = 0;
    std::uint64_t request_id = 0;
    std::span<const std::byte> head;
    std::span<const std::byte> body;
};

class Channel {
public:
    // Supervisor: creates the memfd segment (sealed size) and the doorbells, all CLOEXEC.
    // Failure: System (with the syscall and its errno) or TooLarge (ring_bytes over 1 GiB).
    static Expected<Channel> create(const ChannelConfig& config);
    // Worker: maps the inherited segment, checks magic/version/size, stores its pid.
    // The channel owns `fds` only when open succeeds; on an error the caller still owns them.
    // Failure: System, BadMagic or BadLayout (`what` names the check).
    static Expected<Channel> open(const ChannelFds& fds, std::chrono::nanoseconds spin = std::chrono::microseconds(30));

    Channel(Channel&&) noexcept;
    Channel& operator=(Channel&&) noexcept;
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    ~Channel();

    Side side() const noexcept;
    ChannelFds fds() const noexcept;  // raw fds (still owned by this Channel)
    std::uint32_t generation() const noexcept;

    // Liveness: the peer's pidfd. The supervisor sets the worker's after spawning; the
    // worker calls watchParent() which opens a pidfd of getppid().
    void setPeerPidfd(int pidfd) noexcept;  // not owned
    Error watchParent();
    bool peerAlive() const noexcept;

    // --- producer side of the outbound ring (one thread at a time) ---
    std::size_t maxPayload() const noexcept;  // largest head+body of one frame
    Error trySend(const Outgoing& frame);     // Ok | WouldBlock | TooLarge
    // Blocking send: waits (spin, then doorbell) for space; Ok | Timeout | PeerDead | TooLarge.
    Error send(const Outgoing& frame, std::chrono::nanoseconds timeout);

    // --- consumer side of the inbound ring (one thread at a time) ---
    // Ok | WouldBlock | BadMagic | BadLength | BadGeneration. After an error other than
    // WouldBlock the ring is unusable: the peer is broken and should be retired.
    // A frame still held from the previous call is released first.
    Error tryReceive(FrameView& out);
    void release();  // frees the frame last returned by tryReceive
    // Blocking receive: spin, then sleep on the doorbell; Ok | Timeout | PeerDead | Bad*.
    // The spin yields the CPU every 0.5 us so a peer queued on our CPU can run. Frames the
    // peer published before dying are delivered before PeerDead.
    Error receive(FrameView& out, std::chrono::nanoseconds timeout);

    // --- event-loop integration (supervisor) ---
    // True when a frame can be read now. Otherwise marks the consumer asleep and returns
    // false: wait until inboundBell() is readable, drainBell(inboundBell()), retry.
    bool armReadable() noexcept;
    // True when `payload` bytes fit now; otherwise marks the producer asleep (see above
    // with outboundSpaceBell()).
    bool armWritable(std::size_t payload) noexcept;
    int inboundBell() const noexcept;        // data arrived in our inbound ring
    int outboundSpaceBell() const noexcept;  // space freed in our outbound ring
    static void drainBell(int fd) noexcept;

    SegmentHeader& header() noexcept;
    const RingCounters& outboundCounters() const noexcept;
    const RingCounters& inboundCounters() const noexcept;
    std::size_t inboundUsed() const noexcept;  // bytes waiting to be read
    std::size_t outboundUsed() const noexcept;
    std::size_t ringCapacity() const noexcept;
    void heartbeat() noexcept;  // stores now into this side's heartbeat

private:
    struct State;
    explicit Channel(State* state) noexcept;
    State* state_ = nullptr;
};

}  // namespace buntime::shm

// Transitional: whole-message helpers that moved to proto/stream.h; removed after the merge.
