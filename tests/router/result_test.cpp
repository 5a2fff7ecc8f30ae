// SPDX-License-Identifier: MIT
// router::Result and the names of its error codes.
#include <doctest/doctest.h>

#include <string>

#include "buntime/router/result.h"

using namespace buntime::router;

TEST_CASE("every error code has its own stable name") {
    CHECK(toString(ErrorCode::InvalidValue) == "invalid-value");
    CHECK(toString(ErrorCode::Io) == "io");
    CHECK(toString(ErrorCode::Syntax) == "syntax");
    CHECK(toString(ErrorCode::InvalidName) == "invalid-name");
    CHECK(toString(ErrorCode::NotFound) == "not-found");
    CHECK(toString(ErrorCode::NoMatch) == "no-match");
    CHECK(toString(ErrorCode::Collision) == "collision");
    CHECK(toString(ErrorCode::BadManifest) == "bad-manifest");
}

TEST_CASE("a Result holds a value or an Error, and an Error converts implicitly") {
    Result<std::string> ok = std::string("x");
    REQUIRE(ok.has_value());
    CHECK(*ok == "x");
    Result<std::string> bad = makeError(ErrorCode::NotFound, "no app named nope");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code == ErrorCode::NotFound);
    CHECK(bad.error().message == "no app named nope");
    CHECK(bad.value_or("fallback") == "fallback");
}
