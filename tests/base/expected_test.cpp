// SPDX-License-Identifier: MIT
// base/expected and base/error: the one error convention.
#include <doctest/doctest.h>

#include <cerrno>
#include <memory>
#include <string>

#include "buntime/base/error.h"
#include "buntime/base/expected.h"

using buntime::base::Expected;
using buntime::base::SysError;

namespace {
Expected<int, SysError> half(int v) {
    if (v % 2 != 0) return SysError{EINVAL, "odd: " + std::to_string(v)};
    return v / 2;
}
std::unique_ptr<int> takeOwned() {
    Expected<std::unique_ptr<int>, SysError> p = std::make_unique<int>(7);
    if (!p) return nullptr;
    return std::move(p).value();
}
}  // namespace

TEST_CASE("Expected holds a value or an error, and says which") {
    auto ok = half(8);
    REQUIRE(ok);
    CHECK(ok.has_value());
    CHECK(*ok == 4);
    CHECK(ok.value_or(-1) == 4);
    auto bad = half(3);
    CHECK_FALSE(bad);
    CHECK(bad.error().sys_errno == EINVAL);
    CHECK(bad.error().message == "odd: 3");
    CHECK(bad.value_or(-1) == -1);
}

TEST_CASE("and_then chains on success and passes the first error through") {
    CHECK(half(8).and_then(half).value() == 2);
    auto stopped = half(12).and_then(half).and_then(half);  // 12 -> 6 -> 3 -> error
    REQUIRE_FALSE(stopped);
    CHECK(stopped.error().message == "odd: 3");
}

TEST_CASE("Expected works with move-only values, string conversions and void") {
    CHECK(*takeOwned() == 7);

    Expected<std::string, SysError> s = "literal";
    CHECK(*s == "literal");
    CHECK(s->size() == 7);

    Expected<void, SysError> done;
    CHECK(done);
    Expected<void, SysError> failed = SysError{EIO, "disk"};
    CHECK_FALSE(failed);
    CHECK(failed.error().message == "disk");
    CHECK(done.and_then([] { return Expected<int, SysError>(1); }).value() == 1);
}

TEST_CASE("sysError names what failed and the system's reason") {
    auto e = buntime::base::sysError("open /nonexistent", ENOENT);
    CHECK(e.sys_errno == ENOENT);
    CHECK(e.message == "open /nonexistent: No such file or directory");
    errno = EACCES;
    CHECK(buntime::base::sysError("bind").sys_errno == EACCES);
}
