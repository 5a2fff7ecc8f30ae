// SPDX-License-Identifier: MIT
// Ring and channel behaviour inside one process: framing, wrap-around, limits, corruption.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <atomic>
#include <thread>

#include "test_util.h"

using namespace buntime::shm;
using namespace buntime::shm::test;

namespace {

Outgoing frameOf(std::span<const std::byte> body, std::uint64_t id = 1, std::uint16_t kind = 3) {
    Outgoing f;
    f.kind = kind;
    f.request_id = id;
    f.body = body;
    return f;
}

std::byte* ringData(Channel& ch, RingControl& r) { return reinterpret_cast<std::byte*>(&ch.header()) + r.data_offset; }

}  // namespace

TEST_CASE("error names and fd strings") {
    CHECK(std::string(toString(Error::PeerDead)) == "PeerDead");
    CHECK(std::string(toString(Error::WouldBlock)) == "WouldBlock");
    ChannelFds f{3, 4, 5, 6, 7};
    CHECK(f.toString() == "3,4,5,6,7");
    auto p = ChannelFds::parse("3,4,5,6,7");
    REQUIRE(p);
    CHECK(p->segment == 3);
    CHECK(p->to_supervisor_space == 7);
    for (const char* bad : {"", "3,4,5,6", "3,4,5,6,7,8", "3,4,5,6,x", "-3,4,5,6,7", " 3,4,5,6,7", "3,4,5,6,7 ",
                            "3,,5,6,7", "99999999999,4,5,6,7", "3;4;5;6;7"}) {
        CAPTURE(bad);
        CHECK_FALSE(ChannelFds::parse(bad));
    }
}

TEST_CASE("segment header is filled by create and open") {
    Pair p = makePair(64 * 1024);
    SegmentHeader& h = p.sup.header();
    CHECK(h.magic == kSegmentMagic);
    CHECK(h.layout_version == kLayoutVersion);
    CHECK(h.generation == 7);
    CHECK(h.supervisor_pid == ::getpid());
    CHECK(h.worker_pid.load() == ::getpid());
    CHECK(p.sup.side() == Side::Supervisor);
    CHECK(p.wrk.side() == Side::Worker);
    CHECK(p.wrk.generation() == 7);
    CHECK(p.sup.ringCapacity() == 64 * 1024);
    CHECK(p.sup.maxPayload() == 32 * 1024 - sizeof(FrameHeader));
    struct stat sb {};
    REQUIRE(::fstat(p.sup.fds().segment, &sb) == 0);
    CHECK(std::uint64_t(sb.st_size) == h.segment_size);
    // The size is sealed.
    CHECK(::ftruncate(p.sup.fds().segment, sb.st_size * 2) != 0);
    const auto before = h.worker_heartbeat_ns.load();
    p.wrk.heartbeat();
    CHECK(h.worker_heartbeat_ns.load() >= before);
    // Rounded up to a power of two.
    ChannelConfig cfg;
    cfg.ring_bytes = 100000;
    auto odd = Channel::create(cfg);
    REQUIRE(odd);
    CHECK(odd->ringCapacity() == 131072);
}

TEST_CASE("open rejects a foreign or damaged segment") {
    Pair p = makePair(16 * 1024);
    SUBCASE("bad magic") {
        p.sup.header().magic = 0x12345678;
        auto fds = dupFds(p.sup.fds());
        auto w = Channel::open(fds);
        CHECK(name(w.error()) == "BadMagic");
    }
    SUBCASE("bad version") {
        p.sup.header().layout_version = 99;
        auto w = Channel::open(dupFds(p.sup.fds()));
        CHECK(name(w.error()) == "BadLayout");
    }
    SUBCASE("bad size") {
        p.sup.header().segment_size += 4096;
        auto w = Channel::open(dupFds(p.sup.fds()));
        CHECK(name(w.error()) == "BadLayout");
    }
    SUBCASE("ring outside the segment") {
        p.sup.header().to_supervisor.data_offset = p.sup.header().segment_size;
        auto w = Channel::open(dupFds(p.sup.fds()));
        CHECK(name(w.error()) == "BadLayout");
    }
    SUBCASE("unsealed memfd of garbage") {
        int fd = ::memfd_create("garbage", MFD_CLOEXEC);
        REQUIRE(fd >= 0);
        REQUIRE(::ftruncate(fd, 1 << 20) == 0);
        ChannelFds fds = dupFds(p.sup.fds());
        ::close(fds.segment);
        fds.segment = fd;
        auto w = Channel::open(fds);
        CHECK_FALSE(w);
        ::close(fd);
    }
    SUBCASE("tiny sealed memfd") {
        int fd = ::memfd_create("tiny", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        REQUIRE(::ftruncate(fd, 16) == 0);
        REQUIRE(::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
        ChannelFds fds = dupFds(p.sup.fds());
        ::close(fds.segment);
        fds.segment = fd;
        CHECK(name(Channel::open(fds).error()) == "BadLayout");
        ::close(fd);
    }
}

TEST_CASE("empty ring answers WouldBlock; release without a frame is harmless") {
    Pair p = makePair(16 * 1024);
    FrameView v;
    CHECK(name(p.wrk.tryReceive(v)) == "WouldBlock");
    CHECK(name(p.sup.tryReceive(v)) == "WouldBlock");
    p.wrk.release();
    CHECK(p.wrk.inboundUsed() == 0);
    CHECK(name(p.wrk.receive(v, 5ms)) == "Timeout");
}

TEST_CASE("frames of 0 B, 1 B and exactly maxPayload pass; one more byte is TooLarge") {
    Pair p = makePair(16 * 1024);
    const std::size_t max = p.sup.maxPayload();
    std::vector<std::byte> big;
    fill(big, max + 1, 42);
    for (std::size_t n : {std::size_t(0), std::size_t(1), max}) {
        CAPTURE(n);
        Outgoing f = frameOf(std::span(big).first(n), n + 100, 9);
        f.flags = 0x40;
        REQUIRE(name(p.sup.trySend(f)) == "Ok");
        FrameView v;
        REQUIRE(name(p.wrk.tryReceive(v)) == "Ok");
        CHECK(v.header.kind == 9);
        CHECK(v.header.flags == 0x40);
        CHECK(v.header.request_id == n + 100);
        CHECK(v.header.generation == 7);
        CHECK(v.head.size() == 0);
        REQUIRE(v.body.size() == n);
        CHECK(std::equal(v.body.begin(), v.body.end(), big.begin()));
        p.wrk.release();
    }
    CHECK(name(p.sup.trySend(frameOf(big))) == "TooLarge");
    // head + body together count.
    Outgoing split = frameOf(std::span(big).first(max / 2 + 1));
    split.head = std::span(big).first(max / 2);
    CHECK(name(p.sup.trySend(split)) == "TooLarge");
    split.head = std::span(big).first(max / 2 - 1);
    CHECK(name(p.sup.trySend(split)) == "Ok");
    FrameView v;
    REQUIRE(name(p.wrk.tryReceive(v)) == "Ok");
    CHECK(v.head.size() == max / 2 - 1);
    CHECK(v.body.size() == max / 2 + 1);
    CHECK(std::equal(v.head.begin(), v.head.end(), big.begin()));
    CHECK(p.sup.outboundCounters().messages.load() == 4);
}

TEST_CASE("a full ring answers WouldBlock and counts stalls; a maxPayload frame fits once drained") {
    Pair p = makePair(16 * 1024);
    std::vector<std::byte> body;
    fill(body, 1000, 1);
    int sent = 0;
    while (p.sup.trySend(frameOf(body, sent)) == Error::Ok) ++sent;
    CHECK(sent == 16 * 1024 / 1032);  // 32 B header + 1000 B padded to 1032
    CHECK(p.sup.outboundCounters().full_stalls.load() == 1);
    CHECK(name(p.sup.trySend(frameOf(body))) == "WouldBlock");
    CHECK(p.sup.outboundCounters().full_stalls.load() == 2);
    CHECK(p.sup.outboundCounters().high_water.load() == std::uint64_t(sent) * 1032);
    CHECK_FALSE(p.sup.armWritable(1000));
    CHECK(p.sup.header().to_worker.producer_waiting.load() == 1);
    // Consuming one frame rings the space bell of the waiting producer.
    FrameView v;
    REQUIRE(name(p.wrk.tryReceive(v)) == "Ok");
    CHECK(v.header.request_id == 0);
    p.wrk.release();
    pollfd pf{p.sup.outboundSpaceBell(), POLLIN, 0};
    CHECK(::poll(&pf, 1, 0) == 1);
    Channel::drainBell(p.sup.outboundSpaceBell());
    CHECK(::poll(&pf, 1, 0) == 0);
    CHECK(p.sup.header().to_worker.producer_waiting.load() == 0);
    CHECK(p.sup.armWritable(1000));
    // Drain everything: then any frame up to maxPayload fits wherever the ring stands.
    for (int i = 1; i < sent; ++i) {
        REQUIRE(name(p.wrk.tryReceive(v)) == "Ok");
        CHECK(v.header.request_id == std::uint64_t(i));
    }
    p.wrk.release();
    CHECK(name(p.wrk.tryReceive(v)) == "WouldBlock");
    std::vector<std::byte> max;
    fill(max, p.sup.maxPayload(), 2);
    CHECK(name(p.sup.trySend(frameOf(max))) == "Ok");
}

TEST_CASE("wrap-around writes pad frames and keeps order and content") {
    Pair p = makePair(4096);
    std::uint64_t payload_total = 0;
    std::uint64_t frames_bytes = 0;
    std::vector<std::byte> buf;
    FrameView v;
    // Sizes chosen so frames straddle the end repeatedly, with tails both above and below
    // the header size.
    for (std::uint64_t i = 0; i < 2000; ++i) {
        const std::size_t n = (i * 389 + 17) % (p.sup.maxPayload() + 1);
        fill(buf, n, i);
        REQUIRE(name(p.sup.trySend(frameOf(buf, i))) == "Ok");
        payload_total += n;
        frames_bytes += (32 + n + 7) / 8 * 8;
        REQUIRE(name(p.wrk.tryReceive(v)) == "Ok");
        CHECK(v.header.request_id == i);
        REQUIRE(v.body.size() == n);
        CHECK(fnv1a(v.body) == fnv1a(buf));
        p.wrk.release();
    }
    const auto& c = p.sup.outboundCounters();
    CHECK(c.messages.load() == 2000);
    CHECK(c.bytes.load() == payload_total);
    // Positions advanced by more than the frames themselves: pads were written.
    CHECK(p.sup.header().to_worker.write_pos.load() > frames_bytes);
    CHECK(p.sup.header().to_worker.read_pos.load() == p.sup.header().to_worker.write_pos.load());
}

TEST_CASE("a short tail (< header size) is skipped without a pad header") {
    Pair p = makePair(4096);
    std::vector<std::byte> buf;
    // 4096 - 16 = 4080 bytes of frames leave a 16-byte tail.
    fill(buf, 2040 - 32, 1);
    REQUIRE(name(p.sup.trySend(frameOf(buf, 1))) == "Ok");
    fill(buf, 2040 - 32, 2);
    REQUIRE(name(p.sup.trySend(frameOf(buf, 2))) == "Ok");
    FrameView v;
    REQUIRE(name(p.wrk.tryReceive(v)) == "Ok");
    REQUIRE(name(p.wrk.tryReceive(v)) == "Ok");
    CHECK(v.header.request_id == 2);
    p.wrk.release();
    fill(buf, 100, 3);
    REQUIRE(name(p.sup.trySend(frameOf(buf, 3))) == "Ok");
    CHECK(p.sup.header().to_worker.write_pos.load() == 4096 + 136);
    REQUIRE(name(p.wrk.tryReceive(v)) == "Ok");
    CHECK(v.header.request_id == 3);
    CHECK(fnv1a(v.body) == fnv1a(buf));
}

TEST_CASE("corrupted frames are rejected as errors, and the error sticks") {
    Pair p = makePair(4096);
    std::vector<std::byte> buf;
    fill(buf, 64, 5);
    REQUIRE(name(p.sup.trySend(frameOf(buf, 1))) == "Ok");
    RingControl& r = p.sup.header().to_worker;
    auto* hdr = reinterpret_cast<FrameHeader*>(ringData(p.sup, r));
    FrameView v;
    Error expected = Error::Ok;
    SUBCASE("bad magic") {
        hdr->magic = 0xdeadbeef;
        expected = Error::BadMagic;
    }
    SUBCASE("wrong generation") {
        hdr->generation = 6;
        expected = Error::BadGeneration;
    }
    SUBCASE("body longer than published") {
        hdr->body_len = 4000;
        expected = Error::BadLength;
    }
    SUBCASE("lengths that overflow 32 bits together") {
        hdr->head_len = 0xffffffff;
        hdr->body_len = 0xffffffff;
        expected = Error::BadLength;
    }
    SUBCASE("write_pos beyond capacity") {
        r.write_pos.store(r.read_pos.load() + 4096 + 8);
        expected = Error::BadLength;
    }
    SUBCASE("write_pos inside a header") {
        r.write_pos.store(16);
        expected = Error::BadLength;
    }
    SUBCASE("garbage pad kind with bad magic") {
        hdr->kind = kPadKind;
        hdr->magic = 0;
        expected = Error::BadMagic;
    }
    CHECK(name(p.wrk.tryReceive(v)) == name(expected));
    CHECK(name(p.wrk.tryReceive(v)) == name(expected));
    CHECK(name(p.wrk.receive(v, 1ms)) == name(expected));
}

TEST_CASE("random garbage in the ring never crashes the consumer") {
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        Pair p = makePair(4096);
        RingControl& r = p.sup.header().to_worker;
        std::vector<std::byte> junk;
        fill(junk, 4096, seed);
        std::byte* data = ringData(p.sup, r);
        std::memcpy(data, junk.data(), junk.size());
        if (seed % 3 == 0) {  // a plausible header so the length checks run
            FrameHeader h{kFrameMagic, 1, 0, 7, std::uint32_t(seed * 37), 0, std::uint32_t(seed * 91), 0};
            std::memcpy(data, &h, sizeof h);
        }
        r.write_pos.store(Rng(seed).next() % 8192);
        FrameView v;
        for (int i = 0; i < 10; ++i) {
            const Error e = p.wrk.tryReceive(v);
            if (e == Error::Ok) {
                CHECK(v.body.data() + v.body.size() <= data + 4096);
                continue;
            }
            CHECK(
                (e == Error::WouldBlock || e == Error::BadMagic || e == Error::BadLength || e == Error::BadGeneration));
            break;
        }
    }
}

TEST_CASE("messages larger than a frame are chunked and reassembled between threads") {
    Pair p = makePair(256 * 1024, 20us);
    std::vector<std::byte> body;
    fill(body, 100u << 20, 77);
    const auto expect = fnv1a(body);
    const std::string head = "head-bytes";
    Error send_result = Error::System;
    std::thread producer([&] { send_result = sendMessage(p.sup, 12, 0x10, 555, asBytes(head), body, 60s); });
    Message m;
    const Error e = receiveMessage(p.wrk, m, 60s);
    producer.join();
    CHECK(name(send_result) == "Ok");
    REQUIRE(name(e) == "Ok");
    CHECK(m.kind == 12);
    CHECK(m.flags == 0x10);
    CHECK(m.request_id == 555);
    CHECK(std::string(reinterpret_cast<const char*>(m.head.data()), m.head.size()) == head);
    REQUIRE(m.body.size() == body.size());
    CHECK(fnv1a(m.body) == expect);
    CHECK(p.sup.outboundCounters().messages.load() > 100 * 1024 / 128);
    // Small messages are one frame and round-trip too.
    REQUIRE(name(sendMessage(p.wrk, 1, 0, 9, {}, asBytes("pong"), 1s)) == "Ok");
    REQUIRE(name(receiveMessage(p.sup, m, 1s)) == "Ok");
    CHECK(m.body.size() == 4);
}

TEST_CASE("receiveMessage rejects other request ids, stray continuations and oversized bodies") {
    Pair p = makePair(16 * 1024);
    std::vector<std::byte> body;
    fill(body, 20000, 3);
    Message m;
    SUBCASE("stray continuation") {
        Outgoing f = frameOf(std::span(body).first(10), 1, kContinuationKind);
        REQUIRE(name(p.sup.trySend(f)) == "Ok");
        CHECK(name(receiveMessage(p.wrk, m, 1s)) == "BadLength");
    }
    SUBCASE("interleaved request id") {
        Outgoing first = frameOf(std::span(body).first(10), 1, 5);
        first.flags = kFlagMore;
        REQUIRE(name(p.sup.trySend(first)) == "Ok");
        Outgoing other = frameOf(std::span(body).first(10), 2, kContinuationKind);
        REQUIRE(name(p.sup.trySend(other)) == "Ok");
        CHECK(name(receiveMessage(p.wrk, m, 1s)) == "BadLength");
    }
    SUBCASE("max_body") {
        Outgoing first = frameOf(std::span(body).first(5000), 1, 5);
        first.flags = kFlagMore;
        REQUIRE(name(p.sup.trySend(first)) == "Ok");
        Outgoing next = frameOf(std::span(body).first(5000), 1, kContinuationKind);
        REQUIRE(name(p.sup.trySend(next)) == "Ok");
        CHECK(name(receiveMessage(p.wrk, m, 1s, 8000)) == "BadLength");
    }
    SUBCASE("timeout mid-message") {
        Outgoing first = frameOf(std::span(body).first(10), 1, 5);
        first.flags = kFlagMore;
        REQUIRE(name(p.sup.trySend(first)) == "Ok");
        CHECK(name(receiveMessage(p.wrk, m, 20ms)) == "Timeout");
    }
}

TEST_CASE("a sleeping consumer is woken by exactly one doorbell") {
    Pair p = makePair(16 * 1024, 0ns);
    FrameView v;
    Error got = Error::System;
    std::uint64_t id = 0;
    std::thread consumer([&] {
        got = p.wrk.receive(v, 30s);
        id = v.header.request_id;
        p.wrk.release();
    });
    RingControl& r = p.sup.header().to_worker;
    // `sleeps` is counted after the consumer re-checked the ring with consumer_waiting set.
    while (r.counters.sleeps.load() == 0) std::this_thread::sleep_for(1ms);
    CHECK(r.consumer_waiting.load() == 1);
    REQUIRE(name(p.sup.trySend(frameOf(asBytes("wake"), 99))) == "Ok");
    consumer.join();
    CHECK(name(got) == "Ok");
    CHECK(id == 99);
    CHECK(r.counters.wakeups.load() == 1);
    CHECK(r.counters.sleeps.load() >= 1);
    CHECK(r.counters.spin_hits.load() == 0);
    CHECK(r.consumer_waiting.load() == 0);
    // Nobody sleeps now: further sends ring no bell.
    REQUIRE(name(p.sup.trySend(frameOf(asBytes("quiet"), 100))) == "Ok");
    CHECK(r.counters.wakeups.load() == 1);
}

TEST_CASE("a spinning consumer counts a spin hit and needs no doorbell") {
    Pair p = makePair(16 * 1024, 20s);
    RingControl& r = p.sup.header().to_worker;
    // A frame that is already there when receive() starts is neither a spin hit nor a
    // sleep; retry with a longer head start if the thread was scheduled that late.
    for (int attempt = 1; attempt <= 5 && r.counters.spin_hits.load() == 0; ++attempt) {
        FrameView v;
        Error got = Error::System;
        std::atomic<bool> started{false};
        std::thread consumer([&] {
            started = true;
            got = p.wrk.receive(v, 30s);
            p.wrk.release();
        });
        while (!started) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(attempt * 20ms);
        REQUIRE(name(p.sup.trySend(frameOf(asBytes("spin"), 1))) == "Ok");
        consumer.join();
        CHECK(name(got) == "Ok");
    }
    CHECK(r.counters.spin_hits.load() == 1);
    CHECK(r.counters.wakeups.load() == 0);
    CHECK(r.counters.sleeps.load() == 0);
}

TEST_CASE("a blocked producer is woken when the consumer frees room") {
    Pair p = makePair(4096, 0ns);
    std::vector<std::byte> body;
    fill(body, 1000, 1);
    while (p.sup.trySend(frameOf(body)) == Error::Ok) {}
    Error got = Error::System;
    std::thread producer([&] { got = p.sup.send(frameOf(body, 42), 30s); });
    while (p.sup.header().to_worker.producer_waiting.load() == 0) std::this_thread::sleep_for(1ms);
    FrameView v;
    REQUIRE(name(p.wrk.tryReceive(v)) == "Ok");
    p.wrk.release();
    producer.join();
    CHECK(name(got) == "Ok");
    CHECK(name(p.sup.send(frameOf(body), 5ms)) == "Timeout");
}

TEST_CASE("armReadable marks the consumer asleep; a send rings inboundBell") {
    Pair p = makePair(4096);
    CHECK_FALSE(p.sup.armReadable());
    CHECK(p.sup.header().to_supervisor.consumer_waiting.load() == 1);
    pollfd pf{p.sup.inboundBell(), POLLIN, 0};
    CHECK(::poll(&pf, 1, 0) == 0);
    REQUIRE(name(p.wrk.trySend(frameOf(asBytes("x")))) == "Ok");
    CHECK(::poll(&pf, 1, 0) == 1);
    Channel::drainBell(p.sup.inboundBell());
    CHECK(p.sup.armReadable());
    FrameView v;
    CHECK(name(p.sup.tryReceive(v)) == "Ok");
    CHECK(p.sup.inboundCounters().wakeups.load() == 1);
}

TEST_CASE("blocking waits end with PeerDead when the peer's pidfd fires") {
    Pair p = makePair(4096);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) ::_exit(0);
    const int pidfd = int(::syscall(SYS_pidfd_open, child, 0));
    REQUIRE(pidfd >= 0);
    p.sup.setPeerPidfd(pidfd);
    FrameView v;
    CHECK(name(p.sup.receive(v, 30s)) == "PeerDead");
    CHECK_FALSE(p.sup.peerAlive());
    // A frame published before the death is still delivered first.
    REQUIRE(name(p.wrk.trySend(frameOf(asBytes("last words")))) == "Ok");
    CHECK(name(p.sup.receive(v, 30s)) == "Ok");
    CHECK(name(p.sup.receive(v, 30s)) == "PeerDead");
    std::vector<std::byte> body;
    fill(body, 1000, 1);
    while (p.sup.trySend(frameOf(body)) == Error::Ok) {}
    CHECK(name(p.sup.send(frameOf(body), 30s)) == "PeerDead");
    ::waitpid(child, nullptr, 0);
    ::close(pidfd);
}
