// SPDX-License-Identifier: MIT
// base::formatUuidV4: layout, version and variant bits, buffer reuse.
#include "buntime/base/uuid.h"

#include <doctest/doctest.h>

using buntime::base::formatUuidV4;

TEST_CASE("128 bits become a lowercase version 4 UUID") {
    CHECK(formatUuidV4(0x0123456789abcdefULL, 0xfedcba9876543210ULL) == "01234567-89ab-4def-bedc-ba9876543210");
    CHECK(formatUuidV4(0, 0) == "00000000-0000-4000-8000-000000000000");
    CHECK(formatUuidV4(~0ULL, ~0ULL) == "ffffffff-ffff-4fff-bfff-ffffffffffff");
}

TEST_CASE("the string form overwrites what the buffer held") {
    std::string out = "something longer than a UUID, which must not survive";
    formatUuidV4(1, 2, out);
    CHECK(out == "00000000-0000-4001-8000-000000000002");
}
