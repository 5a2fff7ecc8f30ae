// SPDX-License-Identifier: MIT
// proto/control: terminate grace and reason text, including hostile input.
#include <doctest/doctest.h>

#include <string>

#include "buntime/proto/control.h"

using namespace buntime;
using namespace std::chrono_literals;

TEST_CASE("terminate grace round-trips; empty, malformed or huge text means the default") {
    CHECK(proto::encodeTerminate(1500ms) == "1500");
    CHECK(proto::decodeTerminate(proto::bytesOf("1500")) == 1500ms);
    CHECK(proto::decodeTerminate(proto::bytesOf("0")) == 0ms);
    CHECK(proto::encodeTerminate(-5ms) == "0");
    for (const char* bad : {"", "12x", "-1", " 5", "99999999999999999999999"}) {
        CAPTURE(bad);
        CHECK(proto::decodeTerminate(proto::bytesOf(bad)) == proto::kDefaultTerminateGrace);
    }
}

TEST_CASE("reasons are cut at 4096 bytes, never inside a UTF-8 character") {
    CHECK(proto::encodeReason("short") == "short");
    std::string text(4095, 'a');
    text += "\xc3\xa9";  // é: bytes 4095 and 4096
    CHECK(proto::encodeReason(text).size() == 4095);
    std::string three(4094, 'a');
    three += "\xe2\x82\xac";  // €: bytes 4094..4096
    CHECK(proto::encodeReason(three).size() == 4094);
    // Not UTF-8 at all: cut where the limit falls.
    std::string junk(5000, '\x80');
    CHECK(proto::encodeReason(junk).size() == 4096);
    CHECK(proto::decodeReason(proto::bytesOf(junk)).size() == 4096);
    CHECK(proto::decodeReason(proto::bytesOf("\xff\xfe")) == "\xff\xfe");  // bytes kept; JSON writers sanitise
}
