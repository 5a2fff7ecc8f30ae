// SPDX-License-Identifier: MIT
// supervisor/ipc WorkerLink: splitting, the pending queue and whenDrained, pause/resume of
// reading, and a broken ring; the worker end is read and written by the test itself.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "buntime/ipc/worker_link.h"
#include "buntime/proto/stream.h"
#include "rng.h"

using namespace buntime;
using namespace std::chrono_literals;
using proto::kContinuationKind;
using proto::kFlagMore;

namespace {

std::vector<std::byte> bytesOfSize(std::size_t n, std::uint64_t seed) {
    std::vector<std::byte> v;
    test::fill(v, n, seed);
    return v;
}

int dupFd(int fd) { return ::fcntl(fd, F_DUPFD_CLOEXEC, 0); }

// The supervisor end (created) inside a WorkerLink on `io`, and the worker end, opened on
// duplicated descriptors as a worker opens the ones it inherits. No spinning: every wait
// is a doorbell, so the io_context sees all of them.
struct Link {
    boost::asio::io_context io;
    shm::Channel wrk;
    std::unique_ptr<ipc::WorkerLink> link;

    explicit Link(std::size_t ring_bytes) : Link(create(ring_bytes)) {}

    // Runs every handler that is ready now (doorbells rung, posted work), without waiting.
    void runReady() {
        for (int i = 0; i < 3; ++i) {
            io.restart();
            io.poll();
        }
    }

private:
    explicit Link(shm::Channel sup) : wrk(open(sup)), link(std::make_unique<ipc::WorkerLink>(io, std::move(sup))) {}

    static shm::Channel create(std::size_t ring_bytes) {
        shm::ChannelConfig cfg;
        cfg.ring_bytes = ring_bytes;
        cfg.spin = 0ns;
        auto sup = shm::Channel::create(cfg);
        REQUIRE(sup);
        return std::move(sup).value();
    }

    static shm::Channel open(const shm::Channel& sup) {
        const shm::ChannelFds f = sup.fds();
        auto wrk = shm::Channel::open({dupFd(f.segment), dupFd(f.to_worker_data), dupFd(f.to_worker_space),
                                       dupFd(f.to_supervisor_data), dupFd(f.to_supervisor_space)},
                                      0ns);
        REQUIRE(wrk);
        return std::move(wrk).value();
    }
};

}  // namespace

TEST_CASE("a body larger than a frame is split, queued while the ring is full, and arrives whole and in order") {
    Link l(16 * 1024);
    const std::size_t max = l.link->maxPayload();
    const auto head_a = bytesOfSize(40, 1), body_a = bytesOfSize(100000, 2);
    const auto head_b = bytesOfSize(12, 3), part_b1 = bytesOfSize(20000, 4), part_b2 = bytesOfSize(30000, 5);
    const auto body_c = bytesOfSize(10, 6);

    CHECK(l.link->send({3, 0x20, 1, head_a, body_a}));
    // A streamed body: kFlagMore on a piece means the message goes on after it.
    CHECK(l.link->send({3, kFlagMore, 2, head_b, part_b1}));
    CHECK(l.link->send({kContinuationKind, 0, 2, {}, part_b2}));
    CHECK(l.link->send({4, 0, 3, {}, body_c}));
    // 160 KB cannot be in a 16 KiB ring: the rest waits in the link.
    CHECK(l.link->pendingBytes() > 100000);

    proto::MessageAssembler assembler;
    std::vector<proto::Message> done;
    std::vector<std::uint64_t> frame_ids;
    for (int turn = 0; turn < 10000 && done.size() < 3; ++turn) {
        shm::FrameView f;
        while (l.wrk.tryReceive(f) == shm::Error::Ok) {
            CHECK(f.head.size() + f.body.size() <= max);
            frame_ids.push_back(f.header.request_id);
            proto::Message m;
            const auto status = assembler.add(f, m);
            if (status == proto::MessageAssembler::Status::Complete)
                done.push_back(std::move(m));
            else
                CHECK(status == proto::MessageAssembler::Status::Partial);
            l.wrk.release();
        }
        l.runReady();
    }
    REQUIRE(done.size() == 3);
    CHECK(l.link->pendingBytes() == 0);
    // Frames never overtake each other: all of message 1, then 2, then 3.
    CHECK(std::is_sorted(frame_ids.begin(), frame_ids.end()));
    CHECK(std::count(frame_ids.begin(), frame_ids.end(), 1u) >= 13);  // 100,040 B in frames of at most 8,160 B

    CHECK(done[0].request_id == 1);
    CHECK(done[0].kind == 3);
    CHECK(done[0].flags == 0x20);
    CHECK(done[0].head == head_a);
    CHECK(done[0].body == body_a);

    std::vector<std::byte> body_b = part_b1;
    body_b.insert(body_b.end(), part_b2.begin(), part_b2.end());
    CHECK(done[1].request_id == 2);
    CHECK(done[1].head == head_b);
    CHECK(done[1].body == body_b);

    CHECK(done[2].request_id == 3);
    CHECK(done[2].kind == 4);
    CHECK(done[2].body == body_c);
    CHECK(assembler.openMessages() == 0);
}

TEST_CASE("a head larger than a frame is refused and nothing is sent") {
    Link l(4096);
    const auto head = bytesOfSize(l.link->maxPayload() + 1, 7);
    CHECK_FALSE(l.link->send({3, 0, 1, head, {}}));
    CHECK(l.link->pendingBytes() == 0);
    CHECK(l.wrk.inboundUsed() == 0);
}

TEST_CASE("the pending queue holds frames while the ring is full; whenDrained fires exactly when it empties") {
    Link l(4096);
    // Three frames of 1032 B fill the 4 KiB ring but for a 1000 B tail; the 2000 B body
    // needs more, so it waits, and so does every frame after it, even the small ones that
    // would fit in the tail: a frame never overtakes a queued one.
    const std::vector<std::size_t> sizes = {1000, 1000, 1000, 2000, 10, 10, 1000, 1000, 1000, 1000};
    std::vector<std::vector<std::byte>> bodies;
    for (std::uint64_t i = 0; i < sizes.size(); ++i) {
        bodies.push_back(bytesOfSize(sizes[i], 100 + i));
        REQUIRE(l.link->send({5, 0, i, {}, bodies.back()}));
    }
    CHECK(l.link->pendingBytes() == 2000 + 10 + 10 + 4 * 1000);
    int drained = 0;
    l.link->whenDrained([&] { ++drained; });
    l.runReady();
    CHECK(drained == 0);
    CHECK(l.link->pendingBytes() == 6020);  // nobody read: still held, nothing lost

    std::uint64_t next = 0;
    std::size_t last_pending = l.link->pendingBytes();
    for (int turn = 0; turn < 100 && next < 10; ++turn) {
        shm::FrameView f;
        if (l.wrk.tryReceive(f) == shm::Error::Ok) {
            CHECK(f.header.request_id == next);
            CHECK(std::equal(f.body.begin(), f.body.end(), bodies[next].begin(), bodies[next].end()));
            ++next;
            l.wrk.release();  // rings the link's space bell
        }
        l.runReady();
        const std::size_t pending = l.link->pendingBytes();
        CAPTURE(next);
        CHECK(pending <= last_pending);
        CHECK(drained == (pending == 0 ? 1 : 0));
        last_pending = pending;
    }
    CHECK(next == 10);
    CHECK(drained == 1);
    shm::FrameView f;
    CHECK(l.wrk.tryReceive(f) == shm::Error::WouldBlock);
    // An empty queue runs the callback at once.
    int now = 0;
    l.link->whenDrained([&] { ++now; });
    CHECK(now == 1);
    CHECK(drained == 1);
}

TEST_CASE("after close() a waiting whenDrained callback never runs and send refuses") {
    Link l(4096);
    const auto body = bytesOfSize(1000, 9);
    for (std::uint64_t i = 0; i < 5; ++i) REQUIRE(l.link->send({5, 0, i, {}, body}));
    REQUIRE(l.link->pendingBytes() > 0);
    int drained = 0;
    l.link->whenDrained([&] { ++drained; });
    l.link->close();
    CHECK(l.link->pendingBytes() == 0);
    shm::FrameView f;
    while (l.wrk.tryReceive(f) == shm::Error::Ok) l.wrk.release();
    l.runReady();
    CHECK(drained == 0);
    CHECK_FALSE(l.link->send({5, 0, 9, {}, body}));
}

TEST_CASE("pauseReading stops frame delivery and resumeReading restarts it") {
    Link l(16 * 1024);
    std::vector<std::uint64_t> got;
    std::uint64_t pause_on = 0;
    int broken = 0;
    l.link->start(
        [&](const shm::FrameView& f) {
            got.push_back(f.header.request_id);
            if (f.header.request_id == pause_on) l.link->pauseReading();
        },
        [&](shm::Error) { ++broken; });
    auto workerSends = [&](std::uint64_t id) { REQUIRE(l.wrk.trySend({4, 0, id, {}, {}}) == shm::Error::Ok); };
    using Ids = std::vector<std::uint64_t>;

    for (std::uint64_t id : {1, 2, 3}) workerSends(id);
    l.runReady();
    CHECK(got == Ids{1, 2, 3});

    l.link->pauseReading();
    CHECK(l.link->readingPaused());
    workerSends(4);
    workerSends(5);
    l.runReady();
    CHECK(got == Ids{1, 2, 3});
    CHECK(l.link->channel().inboundUsed() > 0);  // left in the ring: the worker's backpressure

    // Pauses nest: one resume per pause.
    l.link->pauseReading();
    l.link->resumeReading();
    CHECK(l.link->readingPaused());
    l.runReady();
    CHECK(got == Ids{1, 2, 3});

    l.link->resumeReading();
    CHECK_FALSE(l.link->readingPaused());
    l.runReady();
    CHECK(got == Ids{1, 2, 3, 4, 5});

    // A pause from inside the frame handler stops the drain after that frame.
    pause_on = 7;
    for (std::uint64_t id : {6, 7, 8}) workerSends(id);
    l.runReady();
    CHECK(got == Ids{1, 2, 3, 4, 5, 6, 7});
    CHECK(l.link->readingPaused());
    l.link->resumeReading();
    l.runReady();
    CHECK(got == Ids{1, 2, 3, 4, 5, 6, 7, 8});
    // Reading goes on after a resume: the next frame arrives by the doorbell.
    workerSends(9);
    l.runReady();
    CHECK(got == Ids{1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(broken == 0);
}

TEST_CASE("garbage in the inbound ring calls the broken handler once and stops the link") {
    Link l(4096);
    int frames = 0;
    int broken = 0;
    shm::Error reason = shm::Error::Ok;
    l.link->start([&](const shm::FrameView&) { ++frames; },
                  [&](shm::Error e) {
                      ++broken;
                      reason = e;
                  });
    REQUIRE(l.wrk.trySend({4, 0, 1, {}, bytesOfSize(100, 10)}) == shm::Error::Ok);
    l.runReady();
    CHECK(frames == 1);

    // The worker publishes a frame, then scribbles over it (a worker is untrusted).
    shm::RingControl& ring = l.wrk.header().to_supervisor;
    const std::uint64_t at = ring.write_pos.load() & (ring.capacity - 1);
    REQUIRE(l.wrk.trySend({4, 0, 2, {}, bytesOfSize(100, 11)}) == shm::Error::Ok);
    auto* data = reinterpret_cast<std::byte*>(&l.wrk.header()) + ring.data_offset;
    const auto junk = bytesOfSize(64, 12);
    std::memcpy(data + at, junk.data(), junk.size());
    const std::uint32_t bad_magic = 0xdeadbeef;
    std::memcpy(data + at, &bad_magic, sizeof bad_magic);
    l.runReady();
    CHECK(broken == 1);
    CHECK(reason == shm::Error::BadMagic);
    CHECK(frames == 1);

    // More from the worker changes nothing: the link no longer reads, and refuses to send.
    (void)l.wrk.trySend({4, 0, 3, {}, {}});
    const std::uint64_t one = 1;
    REQUIRE(::write(l.wrk.fds().to_supervisor_data, &one, sizeof one) == sizeof one);
    l.runReady();
    CHECK(broken == 1);
    CHECK(frames == 1);
    CHECK_FALSE(l.link->send({5, 0, 4, {}, {}}));
}
