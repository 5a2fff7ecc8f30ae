// SPDX-License-Identifier: MIT
// The JavaScript worker's channel end (js/addon/src/port.h): frames to events, Ping answered
// in C++, responses split to fit frames, a full ring reported instead of blocking.
#include "port.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "../shm/channel_pair.h"
#include "buntime/proto/control.h"

using namespace buntime;
using namespace std::chrono_literals;

namespace {

std::vector<std::byte> bytes(std::string_view s) {
    auto b = proto::bytesOf(s);
    return {b.begin(), b.end()};
}

std::vector<js::Event> pollAll(js::Port& port) {
    std::vector<js::Event> out;
    port.poll(out, 50ms);
    return out;
}

proto::RequestHead head(std::int64_t length) {
    proto::RequestHead h;
    h.method = "POST";
    h.target = "/app/x?q=1";
    h.path = "/x";
    h.query = "q=1";
    h.base = "/app";
    h.headers = {{"host", "h"}, {"x-odd", "caf\xe9"}};
    h.content_length = length;
    return h;
}

}  // namespace

TEST_CASE("a request in one frame is one Request event with its head and body") {
    auto pair = shm::test::makeChannelPair(64 * 1024);
    js::Port port(std::move(pair.wrk), 1 << 20);
    const auto h = proto::encode(head(3));
    REQUIRE(pair.sup.trySend(proto::frame(proto::Kind::Request, 41, h, proto::bytesOf("abc"))) == shm::Error::Ok);
    auto events = pollAll(port);
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == js::Event::Type::Request);
    CHECK(events[0].id == 41);
    CHECK(events[0].head == head(3));
    CHECK(events[0].body == bytes("abc"));
    CHECK_FALSE(events[0].more);
}

TEST_CASE("a streamed body becomes Body events, and past max_body one too_large then nothing") {
    auto pair = shm::test::makeChannelPair(64 * 1024);
    js::Port port(std::move(pair.wrk), 8);
    const auto h = proto::encode(head(-1));
    REQUIRE(pair.sup.trySend(proto::frame(proto::Kind::Request, 5, h, proto::bytesOf("1234"), proto::kFlagMore)) ==
            shm::Error::Ok);
    REQUIRE(pair.sup.trySend({proto::kContinuationKind, proto::kFlagMore, 5, {}, proto::bytesOf("5678")}) ==
            shm::Error::Ok);
    REQUIRE(pair.sup.trySend({proto::kContinuationKind, proto::kFlagMore, 5, {}, proto::bytesOf("9")}) ==
            shm::Error::Ok);
    REQUIRE(pair.sup.trySend({proto::kContinuationKind, 0, 5, {}, proto::bytesOf("0")}) == shm::Error::Ok);
    auto events = pollAll(port);
    REQUIRE(events.size() == 3);
    CHECK(events[0].more);
    CHECK(events[1].type == js::Event::Type::Body);
    CHECK(events[1].body == bytes("5678"));
    CHECK_FALSE(events[1].too_large);
    CHECK(events[2].type == js::Event::Type::Body);
    CHECK(events[2].too_large);
    CHECK(events[2].body.empty());
}

TEST_CASE("Ping is answered with Pong by the port itself; control kinds become events") {
    auto pair = shm::test::makeChannelPair(64 * 1024);
    js::Port port(std::move(pair.wrk), 1024);
    REQUIRE(pair.sup.trySend({js::kPingKind, 0, 77, {}, proto::bytesOf("tokn1234")}) == shm::Error::Ok);
    REQUIRE(pair.sup.trySend(proto::frame(proto::Kind::Idle)) == shm::Error::Ok);
    const auto grace = proto::encodeTerminate(1500ms);
    REQUIRE(pair.sup.trySend(proto::frame(proto::Kind::Terminate, 0, proto::bytesOf(grace))) == shm::Error::Ok);
    REQUIRE(pair.sup.trySend(proto::frame(proto::Kind::Cancel, 9)) == shm::Error::Ok);
    auto events = pollAll(port);
    REQUIRE(events.size() == 3);
    CHECK(events[0].type == js::Event::Type::Idle);
    CHECK(events[1].type == js::Event::Type::Terminate);
    CHECK(events[1].grace_ms == 1500);
    CHECK(events[2].type == js::Event::Type::Cancel);
    CHECK(events[2].id == 9);
    shm::FrameView f;
    REQUIRE(pair.sup.tryReceive(f) == shm::Error::Ok);
    CHECK(f.header.kind == js::kPongKind);
    CHECK(f.header.request_id == 77);
    CHECK(proto::textOf(f.body) == "tokn1234");
    pair.sup.release();
}

TEST_CASE("a large response goes out in frames that reassemble; a full ring is WouldBlock, not a wait") {
    auto pair = shm::test::makeChannelPair(64 * 1024);
    js::Port port(std::move(pair.wrk), 1024);
    std::string body(100 * 1000, 'z');
    const std::vector<std::string> headers{"content-type", "text/plain"};
    auto all = proto::bytesOf(body);
    std::size_t off = 0;
    long rc = port.sendHead(3, 201, headers, -1, all, true, 0);
    REQUIRE(rc > 0);
    off += static_cast<std::size_t>(rc);
    proto::MessageAssembler assembler;
    proto::Message message;
    bool complete = false;
    int would_block = 0;
    while (!complete) {
        while (off < body.size()) {  // fill the ring before the supervisor side reads
            rc = port.sendBody(3, all.subspan(off), true);
            if (rc == js::Port::kWouldBlock) {
                ++would_block;
                CHECK_FALSE(port.armSpace(port.maxPayload()));
                break;
            }
            REQUIRE(rc >= 0);
            off += static_cast<std::size_t>(rc);
        }
        shm::FrameView f;
        while (pair.sup.tryReceive(f) == shm::Error::Ok) {
            if (assembler.add(f, message) == proto::MessageAssembler::Status::Complete) complete = true;
        }
        pair.sup.release();
    }
    CHECK(would_block > 0);
    CHECK(message.kind == proto::toWire(proto::Kind::Response));
    CHECK(message.request_id == 3);
    auto rh = proto::decodeResponseHead(message.head);
    REQUIRE(rh);
    CHECK(rh->status == 201);
    CHECK(rh->content_length == static_cast<std::int64_t>(body.size()));
    CHECK(std::string(reinterpret_cast<const char*>(message.body.data()), message.body.size()) == body);
}

TEST_CASE("a head too large for a frame is refused as TooLarge") {
    auto pair = shm::test::makeChannelPair(64 * 1024);
    js::Port port(std::move(pair.wrk), 1024);
    const std::vector<std::string> headers{"x-big", std::string(40 * 1024, 'h')};
    CHECK(port.sendHead(1, 200, headers, 0, {}, true, 0) == js::Port::kTooLarge);
}
