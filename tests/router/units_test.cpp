// SPDX-License-Identifier: MIT
// Durations and sizes as manifest keys write them.
#include <doctest/doctest.h>

#include "buntime/router/units.h"

using namespace buntime::router;
using std::chrono::milliseconds;

namespace {

long long ms(const char* text) {
    auto r = parseDuration(text);
    REQUIRE_MESSAGE(r.has_value(), text);
    return r->count();
}

unsigned long long bytes(const char* text) {
    auto r = parseSize(text);
    REQUIRE_MESSAGE(r.has_value(), text);
    return *r;
}

}  // namespace

TEST_CASE("plain numbers are seconds") {
    CHECK(ms("30") == 30'000);
    CHECK(ms("0") == 0);
    CHECK(ms("1.5") == 1'500);
    CHECK(ms("0.25") == 250);
    CHECK(ms(" 2 ") == 2'000);
}

TEST_CASE("duration units") {
    CHECK(ms("500ms") == 500);
    CHECK(ms("30s") == 30'000);
    CHECK(ms("5m") == 300'000);
    CHECK(ms("1h") == 3'600'000);
    CHECK(ms("2d") == 172'800'000);
    CHECK(ms("1w") == 604'800'000);
    CHECK(ms("1y") == 31'557'600'000);  // 365.25 days, as the seed's ms()
    CHECK(ms("1.5h") == 5'400'000);
    CHECK(ms("10 S") == 10'000);
    CHECK(ms("2MS") == 2);
    CHECK(ms("3 minutes") == 180'000);
    CHECK(ms("1 hour") == 3'600'000);
    CHECK(ms("2 days") == 172'800'000);
    CHECK(ms("10sec") == 10'000);
}

TEST_CASE("invalid durations are errors with the text in the message") {
    for (const char* bad : {"", "abc", "-1", "-5s", "10x", "1.2.3s", "s", ".", "1e3", "5 m s", "99999999999y"}) {
        CAPTURE(bad);
        auto r = parseDuration(bad);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == ErrorCode::InvalidValue);
        CHECK(r.error().message.find("invalid duration") != std::string::npos);
    }
    CHECK(parseDuration("abc").error().message == "invalid duration \"abc\"");
}

TEST_CASE("sizes") {
    CHECK(bytes("100") == 100);
    CHECK(bytes("100b") == 100);
    CHECK(bytes("512kb") == 512 * 1024);
    CHECK(bytes("10mb") == 10ull * 1024 * 1024);
    CHECK(bytes("10MB") == 10ull * 1024 * 1024);
    CHECK(bytes("1gb") == 1024ull * 1024 * 1024);
    CHECK(bytes("1.5mb") == 1536ull * 1024);
    CHECK(bytes("4 KB") == 4096);
    CHECK(bytes("0") == 0);
    CHECK(bytes("18446744073709551") == 18446744073709551ull);
}

TEST_CASE("invalid sizes are errors") {
    for (const char* bad : {"", "-1", "ten", "10pb", "1.5", "1.5b", "mb", "99999999999tb"}) {
        CAPTURE(bad);
        auto r = parseSize(bad);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().message.find("invalid size") != std::string::npos);
    }
}
