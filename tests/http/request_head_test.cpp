// SPDX-License-Identifier: MIT
// normalizeTargetAndHost: absolute-form to origin-form with Host from the authority
// (RFC 9112 §3.2.2), and exactly one Host on HTTP/1.1 (§3.2).
#include <doctest/doctest.h>

#include "buntime/http/request_head.h"

using buntime::http::normalizeTargetAndHost;
using buntime::http::RequestHead;

namespace {

RequestHead head(std::string target, unsigned version, buntime::http::Headers headers = {}) {
    RequestHead h;
    h.method = "GET";
    h.target = std::move(target);
    h.version = version;
    h.headers = std::move(headers);
    return h;
}

int hostCount(const RequestHead& h) {
    int n = 0;
    for (const auto& kv : h.headers) n += kv.first == "Host" || kv.first == "host";
    return n;
}

}  // namespace

TEST_CASE("HTTP/1.1 needs exactly one Host; HTTP/1.0 none") {
    auto h = head("/app/", 11, {{"Host", "x"}});
    CHECK(normalizeTargetAndHost(h));
    CHECK(h.target == "/app/");
    auto none = head("/app/", 11);
    CHECK_FALSE(normalizeTargetAndHost(none));
    auto two = head("/app/", 11, {{"Host", "a"}, {"host", "b"}});
    CHECK_FALSE(normalizeTargetAndHost(two));
    auto old = head("/app/", 10);
    CHECK(normalizeTargetAndHost(old));
}

TEST_CASE("absolute-form becomes origin-form, the authority replacing Host") {
    auto h = head("http://example.test:8080/app/x?q=1", 11, {{"Host", "ignored"}, {"Accept", "*/*"}});
    REQUIRE(normalizeTargetAndHost(h));
    CHECK(h.target == "/app/x?q=1");
    CHECK(hostCount(h) == 1);
    CHECK(*h.find("host") == "example.test:8080");
    CHECK(*h.find("accept") == "*/*");

    auto bare = head("HTTPS://h", 11);
    REQUIRE(normalizeTargetAndHost(bare));
    CHECK(bare.target == "/");
    CHECK(*bare.find("host") == "h");

    auto query = head("http://h?x=1", 10);
    REQUIRE(normalizeTargetAndHost(query));
    CHECK(query.target == "/?x=1");

    auto v6 = head("http://[::1]:80/a", 11);
    REQUIRE(normalizeTargetAndHost(v6));
    CHECK(*v6.find("host") == "[::1]:80");
    CHECK(v6.target == "/a");
}

TEST_CASE("malformed absolute-form is refused") {
    for (const char* t : {"http:///app/", "http://user:pw@h/app/", "http://h\x01/app/", "http://h\xff/"}) {
        CAPTURE(t);
        auto h = head(t, 11, {{"Host", "x"}});
        CHECK_FALSE(normalizeTargetAndHost(h));
    }
    // Other forms are left alone: origin-form, asterisk-form, a path that merely holds "http:".
    auto star = head("*", 11, {{"Host", "x"}});
    CHECK(normalizeTargetAndHost(star));
    CHECK(star.target == "*");
    auto path = head("/http://h/", 11, {{"Host", "x"}});
    CHECK(normalizeTargetAndHost(path));
    CHECK(path.target == "/http://h/");
}
