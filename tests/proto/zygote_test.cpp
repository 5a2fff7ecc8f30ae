// SPDX-License-Identifier: MIT
// proto/zygote.h: the template control messages, byte by byte.
#include "buntime/proto/zygote.h"

#include <doctest/doctest.h>

#include <vector>

using namespace buntime::proto;

namespace {

std::span<const std::byte> bytes(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("a Fork message has the documented layout") {
    ZygoteMessage m;
    m.kind = ZygoteKind::Fork;
    m.fds = 7;
    m.log = 2;
    m.seq = 0x01020304;
    m.value = -5;
    const auto packet = encodeZygote(m);
    REQUIRE(packet.size() == kZygoteHeaderBytes);
    const std::vector<unsigned char> expected = {'B', 'Z', 'Y', '1', 3, 0, 7, 2, 4, 3, 2, 1, 0xfb, 0xff, 0xff, 0xff};
    CHECK(std::vector<unsigned char>(packet.begin(), packet.end()) == expected);
    auto back = decodeZygote(bytes(packet));
    REQUIRE(back);
    CHECK(*back == m);
}

TEST_CASE("Park (children wanted) and Parked (a child's pid) carry their number in value") {
    struct Case {
        ZygoteKind kind;
        std::int32_t value;
        std::vector<unsigned char> bytes;
    };
    const Case cases[] = {
        {ZygoteKind::Park, 2, {'B', 'Z', 'Y', '1', 6, 0, 0, 0xff, 0, 0, 0, 0, 2, 0, 0, 0}},
        {ZygoteKind::Parked, 4242, {'B', 'Z', 'Y', '1', 5, 0, 0, 0xff, 0, 0, 0, 0, 0x92, 0x10, 0, 0}},
    };
    for (const auto& c : cases) {
        ZygoteMessage m;
        m.kind = c.kind;
        m.value = c.value;
        const auto packet = encodeZygote(m);
        CHECK(std::vector<unsigned char>(packet.begin(), packet.end()) == c.bytes);
        auto back = decodeZygote(bytes(packet));
        REQUIRE(back);
        CHECK(*back == m);
    }
}

TEST_CASE("Refused carries its reason, cut at kMaxZygoteText") {
    ZygoteMessage m;
    m.kind = ZygoteKind::Refused;
    m.value = 3;
    m.text = "the app started threads";
    auto back = decodeZygote(bytes(encodeZygote(m)));
    REQUIRE(back);
    CHECK(back->text == m.text);
    CHECK(back->value == 3);
    m.text = std::string(kMaxZygoteText + 100, 'x');
    const auto packet = encodeZygote(m);
    CHECK(packet.size() == kZygoteHeaderBytes + kMaxZygoteText);
    REQUIRE(decodeZygote(bytes(packet)));
    CHECK(decodeZygote(bytes(packet))->text.size() == kMaxZygoteText);
}

TEST_CASE("malformed packets are refused") {
    ZygoteMessage m;
    m.kind = ZygoteKind::Hello;
    m.value = 1234;
    auto good = encodeZygote(m);
    CHECK(decodeZygote(bytes(good)));
    CHECK_FALSE(decodeZygote(bytes(good.substr(0, kZygoteHeaderBytes - 1))));  // short
    auto bad_magic = good;
    bad_magic[3] = '2';
    CHECK_FALSE(decodeZygote(bytes(bad_magic)));
    for (unsigned char kind : {0, 7, 0xff}) {
        auto bad_kind = good;
        bad_kind[4] = static_cast<char>(kind);
        CHECK_FALSE(decodeZygote(bytes(bad_kind)));
    }
    auto many_fds = good;
    many_fds[6] = static_cast<char>(kZygoteMaxFds + 1);
    CHECK_FALSE(decodeZygote(bytes(many_fds)));
    CHECK_FALSE(decodeZygote(bytes(good + std::string(kMaxZygoteText + 1, 'x'))));  // long
}
