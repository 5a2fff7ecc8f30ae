// SPDX-License-Identifier: MIT
// proto/stream: the continuation rule, from both ends, and the blocking helpers over a real channel.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <thread>
#include <vector>

#include "buntime/proto/stream.h"
#include "rng.h"

using namespace buntime;
using proto::FrameSplitter;
using proto::kContinuationKind;
using proto::kFlagMore;
using proto::MessageAssembler;
using Status = MessageAssembler::Status;

namespace {

std::vector<std::byte> bytesOfSize(std::size_t n, std::uint64_t seed) {
    std::vector<std::byte> v;
    test::fill(v, n, seed);
    return v;
}

std::vector<shm::Outgoing> split(const shm::Outgoing& piece, std::size_t max) {
    FrameSplitter s(piece, max);
    REQUIRE(s.valid());
    std::vector<shm::Outgoing> out;
    while (!s.done()) out.push_back(s.next());
    return out;
}

// A frame as a consumer sees it, made from what the splitter produced.
shm::FrameView view(const shm::Outgoing& f) {
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

}  // namespace

TEST_CASE("splitter: a message that fits is one frame with its kind, head, body and flags") {
    const auto head = bytesOfSize(10, 1), body = bytesOfSize(20, 2);
    auto frames = split({4, 0x20, 7, head, body}, 100);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].kind == 4);
    CHECK(frames[0].flags == 0x20);
    CHECK(frames[0].request_id == 7);
    CHECK(frames[0].head.size() == 10);
    CHECK(frames[0].body.size() == 20);
}

TEST_CASE("splitter: a large body becomes a first frame and continuations, More on all but the last") {
    const auto head = bytesOfSize(30, 3), body = bytesOfSize(1000, 4);
    auto frames = split({3, 0x20, 9, head, body}, 100);
    // 70 bytes ride with the head, then 930 in 100-byte frames: 1 + 10 frames.
    REQUIRE(frames.size() == 11);
    std::vector<std::byte> joined;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        CAPTURE(i);
        const auto& f = frames[i];
        CHECK(f.head.size() + f.body.size() <= 100);
        CHECK(f.request_id == 9);
        CHECK(f.kind == (i == 0 ? 3 : kContinuationKind));
        CHECK(f.head.size() == (i == 0 ? 30u : 0u));
        CHECK((f.flags & kFlagMore) == (i + 1 < frames.size() ? kFlagMore : 0));
        CHECK((f.flags & 0x20) == (i == 0 ? 0x20 : 0));  // upper flags ride on the first frame only
        joined.insert(joined.end(), f.body.begin(), f.body.end());
    }
    CHECK(joined == body);
}

TEST_CASE("splitter: a streamed piece keeps More on its last frame; an empty end piece is one frame") {
    const auto body = bytesOfSize(250, 5);
    auto frames = split({kContinuationKind, kFlagMore, 2, {}, body}, 100);
    REQUIRE(frames.size() == 3);
    for (const auto& f : frames) {
        CHECK(f.kind == kContinuationKind);
        CHECK(f.head.empty());
        CHECK((f.flags & kFlagMore) != 0);
    }
    auto end = split({kContinuationKind, 0, 2, {}, {}}, 100);
    REQUIRE(end.size() == 1);
    CHECK(end[0].flags == 0);
    CHECK(end[0].body.empty());
}

TEST_CASE("splitter: a head that fills a frame sends the body after it; a larger head is refused") {
    const auto head = bytesOfSize(100, 6), body = bytesOfSize(5, 7);
    auto frames = split({4, 0, 1, head, body}, 100);
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].body.empty());
    CHECK(frames[1].body.size() == 5);
    const auto big = bytesOfSize(101, 8);
    CHECK_FALSE(FrameSplitter({4, 0, 1, big, {}}, 100).valid());
}

TEST_CASE("assembler: interleaved messages come out whole; a single frame needs no state") {
    const auto a = bytesOfSize(700, 10), b = bytesOfSize(450, 11), head = bytesOfSize(12, 12);
    auto fa = split({3, 0, 1, head, a}, 128);
    auto fb = split({3, 0, 2, head, b}, 128);
    MessageAssembler asm_;
    proto::Message out;
    std::size_t ia = 0, ib = 0;
    std::vector<proto::Message> done;
    while (ia < fa.size() || ib < fb.size()) {
        for (auto* side : {&ia, &ib}) {
            auto& frames = side == &ia ? fa : fb;
            if (*side >= frames.size()) continue;
            const auto st = asm_.add(view(frames[(*side)++]), out);
            if (st == Status::Complete)
                done.push_back(out);
            else
                CHECK(st == Status::Partial);
        }
    }
    REQUIRE(done.size() == 2);
    CHECK(done[0].request_id == 2);  // b has fewer frames and ends first
    CHECK(done[0].body == b);
    CHECK(done[1].request_id == 1);
    CHECK(done[1].body == a);
    CHECK(done[1].head == head);
    CHECK(done[1].kind == 3);
    CHECK(asm_.openMessages() == 0);

    const auto one = bytesOfSize(9, 13);
    CHECK(asm_.add(view({4, 0x20, 5, {}, one}), out) == Status::Complete);
    CHECK(out.body == one);
    CHECK(out.flags == 0x20);
}

TEST_CASE("assembler: stray and malformed continuations, cancel, and a body over the limit") {
    MessageAssembler asm_(300);
    proto::Message out;
    const auto body = bytesOfSize(1000, 20), head = bytesOfSize(4, 21);
    CHECK(asm_.add(view({kContinuationKind, 0, 9, {}, body}), out) == Status::Dropped);
    CHECK(asm_.add(view({kContinuationKind, 0, 9, head, {}}), out) == Status::Malformed);

    auto frames = split({3, 0, 1, head, body}, 128);
    std::vector<Status> seen;
    for (const auto& f : frames) seen.push_back(asm_.add(view(f), out));
    // The frame that passes 300 bytes reports TooLarge once; the rest of the message is dropped.
    CHECK(std::count(seen.begin(), seen.end(), Status::TooLarge) == 1);
    CHECK(std::count(seen.begin(), seen.end(), Status::Complete) == 0);
    CHECK(seen.back() == Status::Dropped);
    CHECK(asm_.openMessages() == 0);

    // The same id works again afterwards, and a cancelled message drops its later frames.
    auto small = split({3, 0, 1, head, std::span(body).first(200)}, 128);
    REQUIRE(small.size() == 2);
    CHECK(asm_.add(view(small[0]), out) == Status::Partial);
    asm_.cancel(1);
    CHECK(asm_.add(view(small[1]), out) == Status::Dropped);
    CHECK(asm_.add(view(small[0]), out) == Status::Partial);
    CHECK(asm_.add(view(small[1]), out) == Status::Complete);
    CHECK(out.body.size() == 200);
}

TEST_CASE("reassembler: a second first frame with an open id returns the older state to dispose of") {
    proto::Reassembler<int> r(100);
    CHECK_FALSE(r.open(1, 10, 5).has_value());
    auto old = r.open(1, 20, 5);
    REQUIRE(old.has_value());
    CHECK(*old == 10);
    shm::FrameHeader h{};
    h.kind = kContinuationKind;
    h.request_id = 1;
    h.body_len = 96;  // 5 + 96 > 100
    auto step = r.next(h);
    REQUIRE(step.slot != nullptr);
    CHECK(step.slot->state == 20);
    CHECK(step.crossed_limit);
    CHECK(step.last);
    CHECK(r.close(1) == 20);
    CHECK(r.size() == 0);
}

TEST_CASE("sendMessage/receiveMessage carry any size through a small ring, one message at a time") {
    shm::ChannelConfig cfg;
    cfg.ring_bytes = 4096;
    auto sup = shm::Channel::create(cfg);
    REQUIRE(sup);
    auto fds = sup->fds();
    shm::ChannelFds dup{::dup(fds.segment), ::dup(fds.to_worker_data), ::dup(fds.to_worker_space),
                        ::dup(fds.to_supervisor_data), ::dup(fds.to_supervisor_space)};
    auto wrk = shm::Channel::open(dup);
    REQUIRE(wrk);
    const auto head = bytesOfSize(40, 30);
    std::vector<std::vector<std::byte>> bodies;
    for (std::size_t n : {0, 1, 1000, 2047, 2048, 100000}) bodies.push_back(bytesOfSize(n, n));

    std::thread sender([&] {
        for (std::size_t i = 0; i < bodies.size(); ++i)
            CHECK(proto::sendMessage(*sup, 3, 0x20, i + 1, head, bodies[i], std::chrono::seconds(20)) ==
                  shm::Error::Ok);
    });
    proto::Message m;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        CAPTURE(i);
        REQUIRE(proto::receiveMessage(*wrk, m, std::chrono::seconds(20)) == shm::Error::Ok);
        CHECK(m.kind == 3);
        CHECK(m.flags == 0x20);
        CHECK(m.request_id == i + 1);
        CHECK(m.head == head);
        CHECK(m.body == bodies[i]);
    }
    sender.join();

    // A body over max_body is refused.
    std::thread big([&] { proto::sendMessage(*sup, 3, 0, 99, {}, bodies.back(), std::chrono::seconds(20)); });
    CHECK(proto::receiveMessage(*wrk, m, std::chrono::seconds(20), 50000) == shm::Error::BadLength);
    // Drain what the sender still writes so it can finish.
    shm::FrameView f;
    while (wrk->receive(f, std::chrono::milliseconds(200)) == shm::Error::Ok) wrk->release();
    big.join();

    // A head larger than a frame cannot be sent.
    const auto huge = bytesOfSize(sup->maxPayload() + 1, 31);
    CHECK(proto::sendMessage(*sup, 3, 0, 1, huge, {}, std::chrono::seconds(1)) == shm::Error::TooLarge);
}
