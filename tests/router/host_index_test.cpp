// SPDX-License-Identifier: MIT
// Virtual hosts: exact before wildcard, longest suffix, depth, case and port, collisions.
#include <doctest/doctest.h>

#include "buntime/router/host_index.h"

using namespace buntime::router;

namespace {

std::string matchOf(const HostIndex& index, std::string_view host) {
    const std::string* app = index.match(host);
    return app ? *app : std::string("-");
}

}  // namespace

TEST_CASE("normalizeHost drops case, port and a trailing dot") {
    CHECK(normalizeHost("Tools.Example.COM:8080") == "tools.example.com");
    CHECK(normalizeHost("tools.example.com.") == "tools.example.com");
    CHECK(normalizeHost("[::1]:8000") == "[::1]");
    CHECK(normalizeHost(" a.b ") == "a.b");
}

TEST_CASE("exact names win, then the longest wildcard suffix, at any depth") {
    HostIndex index;
    index.add("apps", {"*.apps.example.com"});
    index.add("deep", {"*.b.apps.example.com"});
    index.add("tools", {"tools.example.com", "x.apps.example.com"});
    CHECK(matchOf(index, "tools.example.com") == "tools");
    CHECK(matchOf(index, "TOOLS.example.com:8080") == "tools");
    CHECK(matchOf(index, "x.apps.example.com") == "tools");  // exact beats the wildcard
    CHECK(matchOf(index, "a.apps.example.com") == "apps");
    CHECK(matchOf(index, "a.c.apps.example.com") == "apps");  // any depth
    CHECK(matchOf(index, "a.b.apps.example.com") == "deep");  // the longer suffix
    CHECK(matchOf(index, "b.apps.example.com") == "apps");    // *.b… does not match b… itself
    CHECK(matchOf(index, "apps.example.com") == "-");         // nor does *.apps…
    CHECK(matchOf(index, "example.com") == "-");
    CHECK(matchOf(index, "other.org") == "-");
    CHECK(matchOf(index, "") == "-");
    CHECK(index.collisions().empty());
}

TEST_CASE("a host claimed twice stays with the first app and is reported") {
    HostIndex index;
    index.add("alpha", {"shared.example.com", "*.wild.example.com"});
    index.add("beta", {"shared.example.com", "*.wild.example.com", "beta.example.com"});
    index.add("alpha", {"shared.example.com"});  // the same app again: not a collision
    CHECK(matchOf(index, "shared.example.com") == "alpha");
    CHECK(matchOf(index, "x.wild.example.com") == "alpha");
    CHECK(matchOf(index, "beta.example.com") == "beta");
    REQUIRE(index.collisions().size() == 2);
    CHECK(index.collisions()[0].pattern == "shared.example.com");
    CHECK(index.collisions()[0].winner == "alpha");
    CHECK(index.collisions()[0].loser == "beta");
    CHECK(index.collisions()[1].pattern == "*.wild.example.com");
}
