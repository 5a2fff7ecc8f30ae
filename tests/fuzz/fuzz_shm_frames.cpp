// SPDX-License-Identifier: MIT
// Fuzz target: the supervisor consuming a response ring whose bytes and control words a worker scribbled.
//
// Input layout (little-endian):
//   [0, 8)   write_pos of the inbound ring (to_supervisor)
//   [8, 16)  read_pos
//   [16]     mode: bit0 proto::receiveMessage instead of the frame API; bit1 scribble the ring's
//            capacity/data_offset words (the channel must use its own copies); bit2 after
//            the first WouldBlock, publish the second write_pos below (a peer that goes on
//            writing); bits 4..7 log2 of max_body for receiveMessage
//   [17, 25) second write_pos
//   [25, ..) ring bytes, copied to the start of the 4 KiB inbound ring
// Properties: every call returns an error value (never crashes); an Ok frame lies inside
// the ring with the lengths its header states; an error other than WouldBlock sticks.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "buntime/proto/stream.h"
#include "buntime/shm/channel.h"
#include "fuzz_check.h"

using namespace buntime::shm;
using buntime::proto::kContinuationKind;
using buntime::proto::kFlagMore;

namespace {

constexpr std::uint32_t kGeneration = 7;
constexpr std::size_t kPrefix = 25;

std::uint64_t u64At(const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

bool isError(Error e) { return e == Error::BadMagic || e == Error::BadLength || e == Error::BadGeneration; }

// Reads every byte so a span pointing outside the mapping faults here.
std::uint64_t touch(std::span<const std::byte> s) {
    std::uint64_t sum = 0;
    for (std::byte b : s) sum = sum * 31 + std::uint64_t(b);
    return sum;
}

void checkFrame(const FrameView& v, const std::byte* ring, std::size_t cap, std::size_t max_payload) {
    FUZZ_CHECK(v.header.magic == kFrameMagic);
    FUZZ_CHECK(v.header.generation == kGeneration);
    FUZZ_CHECK(v.header.kind != kPadKind);
    FUZZ_CHECK(v.head.size() == v.header.head_len);
    FUZZ_CHECK(v.body.size() == v.header.body_len);
    FUZZ_CHECK(v.head.size() + v.body.size() <= max_payload);
    FUZZ_CHECK(v.head.data() >= ring + sizeof(FrameHeader));
    FUZZ_CHECK(v.body.data() == v.head.data() + v.head.size());
    FUZZ_CHECK(v.body.data() + v.body.size() <= ring + cap);
    volatile std::uint64_t sink = touch(v.head) + touch(v.body);
    (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < kPrefix) return 0;
    ChannelConfig cfg;
    cfg.ring_bytes = 4096;
    cfg.generation = kGeneration;
    cfg.spin = std::chrono::nanoseconds(0);
    auto created = Channel::create(cfg);
    FUZZ_CHECK(created);  // explicit bool: the same with any Expected
    Channel ch = std::move(created).value();

    SegmentHeader& h = ch.header();
    RingControl& in = h.to_supervisor;
    std::byte* ring = reinterpret_cast<std::byte*>(&h) + in.data_offset;
    const std::size_t cap = ch.ringCapacity();
    const std::size_t max_payload = ch.maxPayload();

    const std::uint8_t mode = data[16];
    const std::size_t ring_bytes = std::min(size - kPrefix, cap);
    std::memcpy(ring, data + kPrefix, ring_bytes);
    in.read_pos.store(u64At(data + 8));
    in.write_pos.store(u64At(data));
    if (mode & 2) {
        in.capacity = ~std::uint64_t(0);
        in.data_offset = ~std::uint64_t(0) - 7;
    }
    bool second_write = (mode & 4) != 0;

    if (mode & 1) {
        const std::size_t max_body = std::size_t(1) << (mode >> 4);
        buntime::proto::Message m;
        for (int i = 0; i < 32; ++i) {
            const Error e = buntime::proto::receiveMessage(ch, m, std::chrono::nanoseconds(0), max_body);
            if (e == Error::Ok) {
                FUZZ_CHECK(m.body.size() <= max_body);
                FUZZ_CHECK((m.flags & kFlagMore) == 0);
                FUZZ_CHECK(m.kind != kContinuationKind && m.kind != kPadKind);
                continue;
            }
            if (e == Error::Timeout && second_write) {
                second_write = false;
                in.write_pos.store(u64At(data + 17));
                continue;
            }
            FUZZ_CHECK(e == Error::Timeout || e == Error::BadLength || isError(e));
            break;
        }
        return 0;
    }

    FrameView v;
    for (int i = 0; i < 256; ++i) {
        const Error e = ch.tryReceive(v);
        if (e == Error::Ok) {
            checkFrame(v, ring, cap, max_payload);
            if (i % 2 == 0) ch.release();  // odd steps rely on tryReceive releasing it
            continue;
        }
        if (e == Error::WouldBlock) {
            FUZZ_CHECK(ch.tryReceive(v) == Error::WouldBlock);  // nothing changed, same answer
            if (!second_write) break;
            second_write = false;
            in.write_pos.store(u64At(data + 17));
            continue;
        }
        FUZZ_CHECK(isError(e));
        FUZZ_CHECK(ch.tryReceive(v) == e);  // sticky: the peer is broken
        FUZZ_CHECK(ch.armReadable());       // the event loop must see it and retire the worker
        break;
    }
    return 0;
}
