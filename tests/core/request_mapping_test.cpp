// SPDX-License-Identifier: MIT
// The protocol head a worker gets: app-relative path, our x-base and x-request-id only.
#include <doctest/doctest.h>

#include "request_mapping.h"

using namespace buntime;

TEST_CASE("x-base and x-request-id come from the supervisor, never from the client") {
    http::RequestHead h;
    h.method = "POST";
    h.target = "/hello@1/api/v1?q=2";
    h.headers = {{"Host", "x"}, {"X-Base", "/evil"}, {"x-request-id", "forged"}, {"Accept", "*/*"}};
    h.content_length = 12;
    h.request_id = "abc-123";
    auto target = router::parseTarget(h.target);
    REQUIRE(target.kind == router::TargetKind::App);
    auto p = supervisor::toProtoHead(h, target, 77);
    CHECK(p.method == "POST");
    CHECK(p.target == "/hello@1/api/v1?q=2");
    CHECK(p.path == "/api/v1");
    CHECK(p.query == "q=2");
    CHECK(p.base == "/hello@1");
    CHECK(p.request_id == "abc-123");
    CHECK(p.content_length == 12);
    CHECK(p.sent_ns == 77);
    const std::vector<proto::Header> expected{
        {"Host", "x"}, {"Accept", "*/*"}, {"x-base", "/hello@1"}, {"x-request-id", "abc-123"}};
    CHECK(p.headers == expected);
    CHECK(supervisor::hasBody(h));
}

TEST_CASE("a chunked body has length -1; no body has length 0") {
    http::RequestHead h;
    h.method = "PUT";
    h.target = "/hello/";
    h.chunked = true;
    auto target = router::parseTarget(h.target);
    CHECK(supervisor::toProtoHead(h, target, 0).content_length == -1);
    CHECK(supervisor::hasBody(h));
    h.chunked = false;
    CHECK(supervisor::toProtoHead(h, target, 0).content_length == 0);
    CHECK_FALSE(supervisor::hasBody(h));
    h.content_length = 0;
    CHECK_FALSE(supervisor::hasBody(h));
}

TEST_CASE("under a virtual host the worker gets the whole path and x-base /") {
    http::RequestHead h;
    h.method = "GET";
    h.target = "/hello@1/api?q=2";
    h.headers = {{"Host", "tools.example.com"}, {"X-Base", "/evil"}};
    h.request_id = "rid";
    auto target = router::parseHostTarget(h.target, "tools");
    REQUIRE(target.kind == router::TargetKind::App);
    auto p = supervisor::toProtoHead(h, target, 0);
    CHECK(p.path == "/hello@1/api");
    CHECK(p.query == "q=2");
    CHECK(p.base == "/");
    const std::vector<proto::Header> expected{{"Host", "tools.example.com"}, {"x-base", "/"}, {"x-request-id", "rid"}};
    CHECK(p.headers == expected);
}
