// SPDX-License-Identifier: MIT
// The bearer-token check of mutating admin calls.
#include <doctest/doctest.h>

#include "buntime/admin/auth.h"

using buntime::admin::tokenMatches;

TEST_CASE("only \"Bearer <token>\" with the exact token matches") {
    CHECK(tokenMatches("Bearer s3cret", "s3cret"));
    CHECK_FALSE(tokenMatches("Bearer s3cre", "s3cret"));         // shorter
    CHECK_FALSE(tokenMatches("Bearer s3crets", "s3cret"));       // longer
    CHECK_FALSE(tokenMatches("Bearer s3creT", "s3cret"));        // last byte differs
    CHECK_FALSE(tokenMatches("Bearer S3cret", "s3cret"));        // first byte differs
    CHECK_FALSE(tokenMatches("Bearer s3crets3cret", "s3cret"));  // a repetition of the token
    CHECK_FALSE(tokenMatches("bearer s3cret", "s3cret"));        // the scheme is case-sensitive here
    CHECK_FALSE(tokenMatches("Basic s3cret", "s3cret"));
    CHECK_FALSE(tokenMatches("s3cret", "s3cret"));
    CHECK_FALSE(tokenMatches("Bearer", "s3cret"));
    CHECK_FALSE(tokenMatches("", "s3cret"));
}

TEST_CASE("an empty configured token matches nothing, not even an empty bearer") {
    CHECK_FALSE(tokenMatches("Bearer ", ""));
    CHECK_FALSE(tokenMatches("Bearer x", ""));
}
