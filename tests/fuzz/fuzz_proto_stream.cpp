// SPDX-License-Identifier: MIT
// Fuzz target: stream reassembly of frames a worker wrote (untrusted), and the splitter.
//
// Properties: FrameSplitter's frames fit max_payload and MessageAssembler rebuilds the very
// head and body that were split; on an arbitrary interleaving of frames (any kind, flags,
// ids, lengths) the assembler never crashes, never returns a body over its max_body nor a
// continuation as a message, and never keeps more open messages than distinct ids.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "buntime/proto/messages.h"
#include "buntime/proto/stream.h"
#include "fuzz_check.h"

using namespace buntime;

namespace {

shm::FrameView viewOf(const shm::Outgoing& f) {
    shm::FrameView v;
    v.header.kind = f.kind;
    v.header.flags = f.flags;
    v.header.request_id = f.request_id;
    v.header.head_len = static_cast<std::uint32_t>(f.head.size());
    v.header.body_len = static_cast<std::uint32_t>(f.body.size());
    v.head = f.head;
    v.body = f.body;
    return v;
}

void splitAndJoin(std::span<const std::byte> in) {
    if (in.size() < 3) return;
    const std::size_t head_len = std::min<std::size_t>(std::to_integer<std::size_t>(in[0]) % 24, in.size() - 3);
    const std::size_t max_payload = head_len + 1 + std::to_integer<std::size_t>(in[1]) % 97;
    const auto head = in.subspan(3, head_len);
    const auto body = in.subspan(3 + head_len);
    shm::Outgoing piece{proto::toWire(proto::Kind::Response), 0, std::to_integer<std::uint64_t>(in[2]), head, body};
    proto::FrameSplitter split(piece, max_payload);
    FUZZ_CHECK(split.valid());
    proto::MessageAssembler assembler;
    proto::Message out;
    proto::MessageAssembler::Status last = proto::MessageAssembler::Status::Dropped;
    std::size_t frames = 0;
    while (!split.done()) {
        const auto f = split.next();
        FUZZ_CHECK(f.head.size() + f.body.size() <= max_payload);
        FUZZ_CHECK(last != proto::MessageAssembler::Status::Complete);  // nothing after the end
        last = assembler.add(viewOf(f), out);
        FUZZ_CHECK(last == proto::MessageAssembler::Status::Partial ||
                   last == proto::MessageAssembler::Status::Complete);
        FUZZ_CHECK(++frames <= in.size() + 2);
    }
    FUZZ_CHECK(last == proto::MessageAssembler::Status::Complete);
    FUZZ_CHECK(out.request_id == piece.request_id);
    FUZZ_CHECK(out.head.size() == head.size() && std::equal(head.begin(), head.end(), out.head.begin()));
    FUZZ_CHECK(out.body.size() == body.size() && std::equal(body.begin(), body.end(), out.body.begin()));
    FUZZ_CHECK(assembler.openMessages() == 0);
}

void hostileStream(std::span<const std::byte> in) {
    constexpr std::uint64_t kMaxBody = 256;
    constexpr std::uint64_t kIds = 8;
    proto::MessageAssembler assembler(kMaxBody);
    proto::Message out;
    std::size_t pos = 0;
    while (pos + 5 <= in.size()) {
        auto b = [&](std::size_t k) { return std::to_integer<unsigned>(in[pos + k]); };
        shm::FrameView v;
        v.header.kind = (b(0) & 1) ? proto::kContinuationKind : static_cast<std::uint16_t>((b(0) >> 1) % 8);
        v.header.flags = static_cast<std::uint16_t>(b(1) & 3);
        v.header.request_id = b(2) % kIds;
        std::size_t head_len = b(3) % 8, body_len = (b(4) * 3) % 400;
        pos += 5;
        head_len = std::min(head_len, in.size() - pos);
        body_len = std::min(body_len, in.size() - pos - head_len);
        v.head = in.subspan(pos, head_len);
        v.body = in.subspan(pos + head_len, body_len);
        v.header.head_len = static_cast<std::uint32_t>(head_len);
        v.header.body_len = static_cast<std::uint32_t>(body_len);
        pos += head_len + body_len;
        const auto status = assembler.add(v, out);
        if (status == proto::MessageAssembler::Status::Complete) {
            FUZZ_CHECK(out.body.size() <= kMaxBody);
            FUZZ_CHECK(out.kind != proto::kContinuationKind);
            FUZZ_CHECK(out.request_id < kIds);
        }
        FUZZ_CHECK(assembler.openMessages() <= kIds);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    splitAndJoin(bytes);
    hostileStream(bytes);
    return 0;
}
