// SPDX-License-Identifier: MIT
// Request-target parsing: app/range/base/rest/query, reserved paths, traversal rejection.
#include <doctest/doctest.h>

#include "buntime/base/ascii.h"
#include "buntime/router/path.h"

using namespace buntime::router;

namespace {

ParsedTarget app(const char* target) {
    auto t = parseTarget(target);
    REQUIRE_MESSAGE(t.kind == TargetKind::App, target, " → ", targetKindName(t.kind), " ", t.error);
    return t;
}

TargetKind kind(const char* target) { return parseTarget(target).kind; }

}  // namespace

TEST_CASE("app, rest and query") {
    auto t = app("/hello/api/items?x=1&y=2");
    CHECK(t.app == "hello");
    CHECK(t.range.empty());
    CHECK(t.base == "/hello");
    CHECK(t.rest == "/api/items");
    CHECK(t.query == "x=1&y=2");

    auto bare = app("/hello");
    CHECK(bare.rest == "/");
    CHECK(bare.base == "/hello");
    CHECK(bare.query.empty());

    auto slash = app("/hello/");
    CHECK(slash.rest == "/");

    auto q = app("/hello?a=b");
    CHECK(q.rest == "/");
    CHECK(q.query == "a=b");

    auto trailing = app("/hello/dir/");
    CHECK(trailing.rest == "/dir/");

    auto frag = app("/hello/x#frag");
    CHECK(frag.rest == "/x");
}

TEST_CASE("version ranges in the app segment") {
    auto exact = app("/hello@1.2.3/x");
    CHECK(exact.app == "hello");
    CHECK(exact.range == "1.2.3");
    CHECK(exact.base == "/hello@1.2.3");
    CHECK(exact.rest == "/x");

    CHECK(app("/hello@latest").range == "latest");
    CHECK(app("/hello@1").range == "1");
    CHECK(app("/hello@^1.0.0/").range == "^1.0.0");

    auto caret = app("/hello@%5E1.0.0/a?b");
    CHECK(caret.range == "^1.0.0");
    CHECK(caret.base == "/hello@%5E1.0.0");
    CHECK(caret.rest == "/a");
    CHECK(caret.query == "b");

    CHECK(app("/hello@%3E%3D1").range == ">=1");
    CHECK(app("/hello@%7E1.2").range == "~1.2");
    CHECK(app("/hello@%3E%3D1%20%3C2").range == ">=1 <2");
    CHECK(app("/hello@1.x%20%7C%7C%203").range == "1.x || 3");
}

TEST_CASE("reserved paths never reach apps") {
    CHECK(kind("/_") == TargetKind::Reserved);
    CHECK(kind("/_/") == TargetKind::Reserved);
    CHECK(kind("/_/health") == TargetKind::Reserved);
    CHECK(kind("/_/api/workers?x=1") == TargetKind::Reserved);
    CHECK(kind("/.well-known/acme-challenge/abc") == TargetKind::Reserved);
    CHECK(kind("/.well-known") == TargetKind::Reserved);
}

TEST_CASE("no app named") {
    CHECK(kind("/") == TargetKind::NotFound);
    CHECK(kind("/?x=1") == TargetKind::NotFound);
    CHECK(kind("//x") == TargetKind::NotFound);
}

TEST_CASE("dot segments anywhere are bad requests") {
    for (const char* t :
         {"/..", "/.", "/app/..", "/app/../etc/passwd", "/app/./x", "/app/x/..", "/app/a/../../b", "/../app",
          "/app@1/..", "/app/x/.", "/app/%2e%2e/x", "/app/%2E%2e", "/app/.%2e/x", "/app/%2e/x", "/_/../app",
          "/app/..%2fetc", "/app/%2e%2e%2fetc%2fpasswd", "/app/x%5c..%5cy", "/app/a%2F.%2Fb"}) {
        CAPTURE(t);
        auto p = parseTarget(t);
        CHECK(p.kind == TargetKind::BadRequest);
        CHECK_FALSE(p.error.empty());
    }
    // Dots inside names are not dot segments.
    CHECK(app("/app/.env.example").rest == "/.env.example");
    CHECK(app("/app/a..b").rest == "/a..b");
    CHECK(app("/app/...").rest == "/...");
    CHECK(app("/app/a%2Fb").rest == "/a%2Fb");
    CHECK(app("/app/x%zz..").rest == "/x%zz..");
}

TEST_CASE("percent-encoding in the app segment is a bad request") {
    for (const char* t : {"/%2e%2e/x", "/%2E%2E", "/app%2f..%2fx", "/app%2F", "/app%5c..", "/app%00", "/%61pp/x",
                          "/app%40/x", "/%2e"}) {
        CAPTURE(t);
        CHECK(kind(t) == TargetKind::BadRequest);
    }
    CHECK(kind("/app/file%00.txt") == TargetKind::BadRequest);
    // Encoded characters in the rest are passed raw.
    auto t = app("/app/a%20b/%2F");
    CHECK(t.rest == "/a%20b/%2F");
}

TEST_CASE("bad names and ranges are bad requests") {
    for (const char* t : {"/.hidden/x", "/-x", "/a b", "/app@", "/app@/x", "/app@%zz", "/app@%4", "/app@%2F1",
                          "/app@%5C1", "/app@1%0A", "/ä/x", "/@1.0.0"}) {
        CAPTURE(t);
        CHECK(kind(t) == TargetKind::BadRequest);
    }
    // A range that does not parse is kept for Router::route, which answers it 404 (the seed's rule).
    CHECK(app("/app@abc").range == "abc");
    CHECK(app("/app@1.2.3.4").range == "1.2.3.4");
}

TEST_CASE("only origin-form targets") {
    CHECK(kind("") == TargetKind::BadRequest);
    CHECK(kind("*") == TargetKind::BadRequest);
    CHECK(kind("http://host/app") == TargetKind::BadRequest);
    CHECK(kind("app/x") == TargetKind::BadRequest);
}

TEST_CASE("base::percentDecode, as the router uses it") {
    CHECK(buntime::base::percentDecode("a%20b") == "a b");
    CHECK(buntime::base::percentDecode("%5e%5E") == "^^");
    CHECK(buntime::base::percentDecode("plain") == "plain");
    CHECK_FALSE(buntime::base::percentDecode("%").has_value());
    CHECK_FALSE(buntime::base::percentDecode("%2").has_value());
    CHECK_FALSE(buntime::base::percentDecode("%g0").has_value());
}
