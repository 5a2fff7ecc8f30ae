// SPDX-License-Identifier: MIT
// proto/messages: the exact bytes of each head, round trips, and refusal of every malformed input.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/proto/messages.h"
#include "proto_samples.h"

// The expected wire format written out by hand: little-endian integers, strings as u32 length + bytes.
class ExpectedBytes {
public:
    ExpectedBytes& le(std::uint64_t v, int width) {
        for (int i = 0; i < width; ++i) out_.push_back(std::byte((v >> (8 * i)) & 0xff));
        return *this;
    }
    ExpectedBytes& str(std::string_view s) {
        le(s.size(), 4);
        for (char c : s) out_.push_back(std::byte(static_cast<unsigned char>(c)));
        return *this;
    }
    const std::vector<std::byte>& bytes() const { return out_; }

private:
    std::vector<std::byte> out_;
};

TEST_CASE("proto request head: exact bytes, round trip, decodeRequestHeadInto reuses a dirty head") {
    buntime::proto::RequestHead h;
    h.method = "POST";
    h.target = "/app/some/long/path/that/does/not/fit/sso?x=1";
    h.path = "/some/long/path/that/does/not/fit/sso";
    h.query = "x=1";
    h.base = "/app";
    h.request_id = "0123456789abcdef0123";
    h.headers = {{"content-type", "application/json"}, {"x-empty", ""}};
    h.content_length = 1234;
    h.sent_ns = 987654321;
    const auto bytes = buntime::proto::encode(h);
    ExpectedBytes expected;
    expected.str(h.method).str(h.target).str(h.path).str(h.query).str(h.base).str(h.request_id);
    expected.le(2, 4).str("content-type").str("application/json").str("x-empty").str("");
    expected.le(1234, 8).le(987654321, 8);
    CHECK(bytes == expected.bytes());

    buntime::proto::RequestHead dirty;
    dirty.method = "GARBAGE";
    dirty.headers = {{"a", "b"}, {"c", "d"}, {"e", "f"}};
    dirty.sent_ns = 5;
    REQUIRE(buntime::proto::decodeRequestHeadInto(bytes, dirty));
    auto reference = buntime::proto::decodeRequestHead(bytes);
    REQUIRE(reference);
    CHECK(dirty == *reference);
    CHECK(dirty == h);

    // Every truncation and a trailing byte are refused by both entry points.
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        std::span<const std::byte> cut(bytes.data(), n);
        CAPTURE(n);
        CHECK_FALSE(buntime::proto::decodeRequestHead(cut));
        CHECK_FALSE(buntime::proto::decodeRequestHeadInto(cut, dirty));
    }
    auto longer = bytes;
    longer.push_back(std::byte{0});
    CHECK_FALSE(buntime::proto::decodeRequestHead(longer));
    CHECK_FALSE(buntime::proto::decodeRequestHeadInto(longer, dirty));
}

TEST_CASE("proto response head: ResponseHeadBuilder and proto::encode write the exact bytes, which decode back") {
    for (int headers : {0, 1, 5}) {
        buntime::proto::ResponseHead h;
        h.status = 418;
        for (int i = 0; i < headers; ++i)
            h.headers.emplace_back("x-h" + std::to_string(i), std::string(std::size_t(i) * 7, 'v'));
        h.content_length = headers == 1 ? -1 : 42;
        h.request_received_ns = 111;
        h.handler_ns = 222;
        h.sent_ns = 333;
        ExpectedBytes expected;
        expected.le(418, 2).le(std::uint64_t(headers), 4);
        for (const auto& [k, v] : h.headers) expected.str(k).str(v);
        expected.le(static_cast<std::uint64_t>(h.content_length), 8).le(111, 8).le(222, 8).le(333, 8);
        const auto reference = buntime::proto::encode(h);
        buntime::proto::ResponseHeadBuilder b;
        b.addHeader("junk", "from a previous response");
        b.reset();
        for (const auto& [k, v] : h.headers) b.addHeader(k, v);
        auto built = b.finish(h.status, h.content_length, h.request_received_ns, h.handler_ns, h.sent_ns);
        CAPTURE(headers);
        CHECK(reference == expected.bytes());
        CHECK(std::vector<std::byte>(built.begin(), built.end()) == reference);
        auto decoded = buntime::proto::decodeResponseHead(built);
        REQUIRE(decoded);
        CHECK(decoded->handler_ns == 222);
        CHECK(decoded->status == 418);
        CHECK(decoded->headers == h.headers);
        CHECK(decoded->content_length == h.content_length);
        CHECK(decoded->request_received_ns == 111);
        CHECK(decoded->sent_ns == 333);
    }
}

TEST_CASE("proto ready info: round trip, and truncations are refused") {
    buntime::proto::ReadyInfo info{"so", 4, 100};
    const auto bytes = buntime::proto::encode(info);
    ExpectedBytes expected;
    expected.str("so").le(4, 4).le(100, 4);
    CHECK(bytes == expected.bytes());
    auto decoded = buntime::proto::decodeReadyInfo(bytes);
    REQUIRE(decoded);
    CHECK(*decoded == info);
    for (std::size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(buntime::proto::decodeReadyInfo({bytes.data(), n}));
}

TEST_CASE("proto response head: a status outside 100..999 and an oversized header count are refused") {
    auto h = buntime::test::sampleResponseHead();
    for (std::uint16_t status : {std::uint16_t(0), std::uint16_t(99), std::uint16_t(1000), std::uint16_t(65535)}) {
        h.status = status;
        CAPTURE(status);
        CHECK_FALSE(buntime::proto::decodeResponseHead(buntime::proto::encode(h)));
    }
    ExpectedBytes huge;
    huge.le(200, 2).le(10001, 4);
    CHECK_FALSE(buntime::proto::decodeResponseHead(huge.bytes()));
}

TEST_CASE("proto request head: a string length past the end of the input is refused, not read") {
    ExpectedBytes lying;
    lying.le(0xFFFFFF, 4).str("GET");
    CHECK_FALSE(buntime::proto::decodeRequestHead(lying.bytes()));
    const auto sample = buntime::test::sampleRequestHead();
    auto decoded = buntime::proto::decodeRequestHead(buntime::proto::encode(sample));
    REQUIRE(decoded);
    CHECK(*decoded == sample);
}

TEST_CASE("proto kinds have stable wire values and names") {
    using buntime::proto::Kind;
    CHECK(buntime::proto::toWire(Kind::Ready) == 1);
    CHECK(buntime::proto::toWire(Kind::Terminate) == 8);
    CHECK(buntime::proto::toString(Kind::Cancel) == "Cancel");
    CHECK(buntime::proto::toString(static_cast<Kind>(99)) == "Unknown");
}
