// SPDX-License-Identifier: MIT
// buntimectl's human units: durations, bytes, percentages, numbers, elision.
#include <doctest/doctest.h>

#include "buntime/ctl/units.h"

using namespace buntime::ctl;

TEST_CASE("durations pick the largest sensible unit") {
    CHECK(formatDuration(0) == "0s");
    CHECK(formatDuration(0.3) == "0.30ms");
    CHECK(formatDuration(2.5) == "2.5ms");
    CHECK(formatDuration(12) == "12ms");
    CHECK(formatDuration(999) == "999ms");
    CHECK(formatDuration(1000) == "1s");
    CHECK(formatDuration(1500) == "1.5s");
    CHECK(formatDuration(30000) == "30s");
    CHECK(formatDuration(60000) == "1m");
    CHECK(formatDuration(90000) == "1m30s");
    CHECK(formatDuration(300000) == "5m");
    CHECK(formatDuration(7200000) == "2h");
    CHECK(formatDuration(3900000) == "1h5m");
    CHECK(formatDuration(2 * 86400000.0 + 3 * 3600000.0) == "2d3h");
    CHECK(formatDuration(-1) == "-");
}

TEST_CASE("bytes use binary units") {
    CHECK(formatBytes(0) == "0B");
    CHECK(formatBytes(512) == "512B");
    CHECK(formatBytes(1024) == "1KiB");
    CHECK(formatBytes(1536) == "1.5KiB");
    CHECK(formatBytes(262144) == "256KiB");
    CHECK(formatBytes(3456789) == "3.3MiB");
    CHECK(formatBytes(10485760) == "10MiB");
    CHECK(formatBytes(5.0 * 1024 * 1024 * 1024) == "5GiB");
    CHECK(formatBytes(-5) == "-");
}

TEST_CASE("percentages and plain numbers") {
    CHECK(formatPercent(0) == "0%");
    CHECK(formatPercent(2048.0 / 262144) == "0.8%");
    CHECK(formatPercent(0.99) == "99.0%");
    CHECK(formatPercent(1) == "100%");
    CHECK(formatNumber(12) == "12");
    CHECK(formatNumber(0.4) == "0.4");
    CHECK(formatNumber(50.126) == "50.13");
}

TEST_CASE("elide cuts to the width with an ellipsis") {
    CHECK(elide("hello", 10) == "hello");
    CHECK(elide("hello", 5) == "hello");
    CHECK(elide("hello world", 6) == "hello\u2026");
    CHECK(displayWidth(elide("hello world", 6)) == 6);
    CHECK(displayWidth("a\u2026") == 2);
}
