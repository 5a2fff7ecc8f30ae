// SPDX-License-Identifier: MIT
// Layout of a channel segment in shared memory: one header, then two SPSC rings.
//
// Every type here lives in memory shared by two processes. Only atomics that are
// lock-free and plain integers are allowed; no pointers, no mutexes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace buntime::shm {

inline constexpr std::uint32_t kSegmentMagic = 0x42554e54;  // "BUNT"
inline constexpr std::uint32_t kFrameMagic = 0x46524d31;    // "FRM1"
inline constexpr std::uint32_t kLayoutVersion = 1;
inline constexpr std::size_t kCacheLine = 64;

// Counters of one ring, written by the side named in the comment, read by anyone.
struct RingCounters {
    std::atomic<std::uint64_t> messages;     // producer: frames published
    std::atomic<std::uint64_t> bytes;        // producer: payload bytes published
    std::atomic<std::uint64_t> wakeups;      // producer: doorbells rung (consumer was asleep)
    std::atomic<std::uint64_t> spin_hits;    // consumer: data found while spinning, no sleep
    std::atomic<std::uint64_t> sleeps;       // consumer: times it went to sleep on the doorbell
    std::atomic<std::uint64_t> full_stalls;  // producer: writes refused with WouldBlock
    std::atomic<std::uint64_t> high_water;   // producer: max bytes in use seen
};

// A plain copy of RingCounters (relaxed loads), for reporting and summing across rings.
struct RingStats {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t wakeups = 0;
    std::uint64_t spin_hits = 0;
    std::uint64_t sleeps = 0;
    std::uint64_t full_stalls = 0;
    std::uint64_t high_water = 0;  // a maximum: summing keeps the larger

    RingStats& operator+=(const RingStats& o) noexcept {
        messages += o.messages;
        bytes += o.bytes;
        wakeups += o.wakeups;
        spin_hits += o.spin_hits;
        sleeps += o.sleeps;
        full_stalls += o.full_stalls;
        high_water = high_water > o.high_water ? high_water : o.high_water;
        return *this;
    }
};

inline RingStats snapshot(const RingCounters& c) noexcept {
    constexpr auto relaxed = std::memory_order_relaxed;
    return RingStats{c.messages.load(relaxed),  c.bytes.load(relaxed),  c.wakeups.load(relaxed),
                     c.spin_hits.load(relaxed), c.sleeps.load(relaxed), c.full_stalls.load(relaxed),
                     c.high_water.load(relaxed)};
}

// Control block of one ring. Producer-owned and consumer-owned words sit on
// separate cache lines.
struct RingControl {
    alignas(kCacheLine) std::atomic<std::uint64_t> write_pos;  // producer writes
    std::atomic<std::uint32_t> producer_waiting;               // producer sets, consumer clears+rings
    alignas(kCacheLine) std::atomic<std::uint64_t> read_pos;   // consumer writes
    std::atomic<std::uint32_t> consumer_waiting;               // consumer sets, producer clears+rings
    alignas(kCacheLine) RingCounters counters;
    alignas(kCacheLine) std::uint64_t capacity;  // bytes, power of two; set at create
    std::uint64_t data_offset;                   // from segment start
};

struct SegmentHeader {
    std::uint32_t magic;
    std::uint32_t layout_version;
    std::uint64_t segment_size;
    std::uint32_t generation;  // worker generation; frames carry it
    std::int32_t supervisor_pid;
    std::atomic<std::int32_t> worker_pid;                // worker stores after mapping
    std::atomic<std::uint64_t> supervisor_heartbeat_ns;  // CLOCK_MONOTONIC
    std::atomic<std::uint64_t> worker_heartbeat_ns;
    alignas(kCacheLine) RingControl to_worker;      // supervisor → worker (requests)
    alignas(kCacheLine) RingControl to_supervisor;  // worker → supervisor (responses)
};

// Header of every frame in a ring; the payload (head bytes then body bytes) follows,
// and the whole frame is padded to 8 bytes. A frame never wraps: a producer that
// reaches the end of the ring writes a Pad frame and continues at offset 0.
struct FrameHeader {
    std::uint32_t magic;
    std::uint16_t kind;   // opaque to shm/ except kPadKind
    std::uint16_t flags;  // opaque to shm/
    std::uint32_t generation;
    std::uint32_t head_len;
    std::uint64_t request_id;
    std::uint32_t body_len;
    std::uint32_t reserved;
};

inline constexpr std::uint16_t kPadKind = 0xffff;

static_assert(std::is_standard_layout_v<RingCounters>);
static_assert(std::is_standard_layout_v<RingControl>);
static_assert(std::is_standard_layout_v<SegmentHeader>);
static_assert(std::is_standard_layout_v<FrameHeader>);
static_assert(std::is_trivially_copyable_v<FrameHeader>);
static_assert(sizeof(FrameHeader) == 32);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::int32_t>::is_always_lock_free);

}  // namespace buntime::shm
