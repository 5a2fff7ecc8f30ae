// SPDX-License-Identifier: MIT
// base/ascii and base/unique_fd.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include "buntime/base/ascii.h"
#include "buntime/base/unique_fd.h"

using namespace buntime::base;

TEST_CASE("ASCII case folding leaves other bytes alone") {
    CHECK(iequals("Content-Length", "content-length"));
    CHECK_FALSE(iequals("content-length", "content-lengt"));
    CHECK_FALSE(iequals("\xc3\x89", "\xc3\xa9"));  // É and é differ: no locale
    CHECK(istartsWith("X-Forwarded-For", "x-forwarded"));
    CHECK_FALSE(istartsWith("X", "x-"));
    CHECK(toLower("MiXeD 1-2") == "mixed 1-2");
    CHECK(toUpper("mb") == "MB");
    CHECK(trim("  \t value \r\n") == "value");
    CHECK(trim(" \t ").empty());
    static_assert(iequals("ABC", "abc"));
}

TEST_CASE("UniqueFd closes once, moves, and releases") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    ::close(fds[1]);
    {
        UniqueFd a(fds[0]);
        UniqueFd b(std::move(a));
        CHECK_FALSE(a.valid());
        CHECK(b.get() == fds[0]);
        CHECK(::fcntl(fds[0], F_GETFD) >= 0);
    }
    CHECK(::fcntl(fds[0], F_GETFD) < 0);  // closed when b left scope

    REQUIRE(::pipe(fds) == 0);
    UniqueFd keep(fds[0]);
    int raw = keep.release();
    CHECK_FALSE(keep);
    CHECK(::close(raw) == 0);
    UniqueFd other(fds[1]);
    other.reset();
    CHECK(::fcntl(fds[1], F_GETFD) < 0);
}
