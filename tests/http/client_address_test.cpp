// SPDX-License-Identifier: MIT
// RUNTIME_TRUSTED_PROXIES: IP parsing, CIDR matching (IPv4, IPv6, mapped) and the
// X-Forwarded-For walk; a client's own X-Forwarded-For is never believed.
#include <doctest/doctest.h>

#include "buntime/http/client_address.h"

using namespace buntime::http;

namespace {

TrustedProxies proxies(std::string_view spec) {
    auto p = TrustedProxies::parse(spec);
    REQUIRE_MESSAGE(p.has_value(), (p ? "" : p.error()));
    return *p;
}

bool trusts(const TrustedProxies& t, std::string_view ip) {
    auto a = IpAddress::parse(ip);
    REQUIRE(a.has_value());
    return t.contains(*a);
}

Headers xff(std::initializer_list<const char*> values) {
    Headers h{{"Host", "x"}};
    for (const char* v : values) h.emplace_back("X-Forwarded-For", v);
    return h;
}

}  // namespace

TEST_CASE("IP addresses parse in both families, IPv4-mapped reads as IPv4") {
    CHECK(IpAddress::parse("192.0.2.1")->toString() == "192.0.2.1");
    CHECK(IpAddress::parse(" 2001:DB8::1 ")->toString() == "2001:db8::1");
    CHECK(IpAddress::parse("[::1]")->toString() == "::1");
    CHECK(IpAddress::parse("::ffff:192.0.2.1")->toString() == "192.0.2.1");
    for (const char* bad : {"", "unix", "192.0.2", "192.0.2.256", "1.2.3.4:80", "::g", "example.com"})
        CHECK_MESSAGE(!IpAddress::parse(bad), bad);
}

TEST_CASE("CIDR blocks match by prefix; single addresses match exactly") {
    auto t = proxies("10.0.0.0/8, 192.0.2.7 ,172.16.0.0/12,fd00::/8, 2001:db8::1, 198.51.100.128/25");
    CHECK(trusts(t, "10.1.2.3"));
    CHECK_FALSE(trusts(t, "11.0.0.1"));
    CHECK(trusts(t, "192.0.2.7"));
    CHECK_FALSE(trusts(t, "192.0.2.8"));
    CHECK(trusts(t, "172.31.255.255"));
    CHECK_FALSE(trusts(t, "172.32.0.0"));
    CHECK(trusts(t, "198.51.100.200"));
    CHECK_FALSE(trusts(t, "198.51.100.127"));  // a prefix that is not a multiple of 8
    CHECK(trusts(t, "fd12::5"));
    CHECK_FALSE(trusts(t, "fe80::1"));
    CHECK(trusts(t, "2001:db8::1"));
    CHECK_FALSE(trusts(t, "2001:db8::2"));
    CHECK(trusts(t, "::ffff:10.9.9.9"));  // an IPv4 peer on an IPv6 socket
    CHECK(trusts(proxies("0.0.0.0/0"), "203.0.113.9"));
    CHECK_FALSE(trusts(proxies("0.0.0.0/0"), "2001:db8::9"));  // IPv4 /0 is every IPv4 address only
    CHECK(trusts(proxies("::/0"), "2001:db8::9"));
    CHECK(proxies("").empty());
    CHECK(proxies(" , ").empty());
}

TEST_CASE("a list that does not parse names the entry") {
    for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/x", "localhost", "10.0.0.1,nope"}) {
        auto p = TrustedProxies::parse(bad);
        REQUIRE_MESSAGE(!p.has_value(), bad);
        CHECK(p.error().find('"') != std::string::npos);
    }
}

TEST_CASE("the client is the peer unless the peer is a trusted proxy") {
    const auto t = proxies("10.0.0.0/8");
    CHECK(clientAddress("203.0.113.5:4000", {}, t) == "203.0.113.5");
    // Spoofed: an untrusted peer's X-Forwarded-For is ignored.
    CHECK(clientAddress("203.0.113.5:4000", xff({"1.2.3.4"}), t) == "203.0.113.5");
    CHECK(clientAddress("203.0.113.5:4000", xff({"1.2.3.4"}), proxies("")) == "203.0.113.5");
    // From a trusted proxy: the right-most address that is not trusted.
    CHECK(clientAddress("10.0.0.2:4000", xff({"1.2.3.4"}), t) == "1.2.3.4");
    CHECK(clientAddress("10.0.0.2:4000", xff({"6.6.6.6, 1.2.3.4, 10.0.0.9"}), t) == "1.2.3.4");   // 6.6.6.6 is a lie
    CHECK(clientAddress("10.0.0.2:4000", xff({"6.6.6.6", "1.2.3.4,10.0.0.9"}), t) == "1.2.3.4");  // several fields
    CHECK(clientAddress("10.0.0.2:4000", xff({"10.0.0.7, 10.0.0.9"}), t) == "10.0.0.7");  // all trusted: left-most
    CHECK(clientAddress("10.0.0.2:4000", xff({"1.2.3.4, garbage, 10.0.0.9"}), t) == "10.0.0.9");  // stops at junk
    CHECK(clientAddress("10.0.0.2:4000", xff({"garbage"}), t) == "10.0.0.2");
    CHECK(clientAddress("10.0.0.2:4000", {}, t) == "10.0.0.2");  // no header: the proxy itself
    CHECK(clientAddress("[fd00::1]:80", xff({"2001:db8::5"}), proxies("fd00::/8")) == "2001:db8::5");
    CHECK(clientAddress("[::ffff:10.0.0.2]:80", xff({"1.2.3.4"}), t) == "1.2.3.4");
    CHECK(clientAddress("unix", xff({"1.2.3.4"}), t).empty());
}

TEST_CASE("stripPort") {
    CHECK(stripPort("192.0.2.1:5000") == "192.0.2.1");
    CHECK(stripPort("[::1]:80") == "::1");
    CHECK(stripPort("::1") == "::1");
    CHECK(stripPort("unix") == "unix");
}
