// SPDX-License-Identifier: MIT
// Semver parsing, precedence, npm range semantics, prerelease rules and bestMatch.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "buntime/router/semver.h"

using namespace buntime::router;

namespace {

Version v(const char* text) {
    auto r = Version::parse(text);
    REQUIRE_MESSAGE(r.has_value(), text);
    return *r;
}

bool sat(const char* range, const char* version) {
    auto r = Range::parse(range);
    REQUIRE_MESSAGE(r.has_value(), range);
    return r->satisfies(v(version));
}

}  // namespace

TEST_CASE("parse valid versions") {
    auto a = v("1.2.3");
    CHECK(a.major == 1);
    CHECK(a.minor == 2);
    CHECK(a.patch == 3);
    CHECK_FALSE(a.isPrerelease());
    auto b = v("1.0.0-alpha.1+build.5");
    CHECK(b.prerelease == std::vector<std::string>{"alpha", "1"});
    CHECK(b.build == "build.5");
    CHECK(b.toString() == "1.0.0-alpha.1+build.5");
    CHECK(v("0.0.0").toString() == "0.0.0");
    CHECK(v("10.20.30-rc-1").prerelease == std::vector<std::string>{"rc-1"});
}

TEST_CASE("reject invalid versions") {
    for (const char* bad :
         {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "v1.2.3", "1.2.3-", "1.2.3-01", "1.2.3-a..b",
          "1.2.3+", "1.2.3+a..b", "a.b.c", "1.2.3-a_b", " 1.2.3", "-1.2.3", "1.2.x", "99999999999999999999.0.0"}) {
        CAPTURE(bad);
        auto r = Version::parse(bad);
        CHECK_FALSE(r.has_value());
        if (!r) CHECK(r.error().code == ErrorCode::InvalidValue);
    }
}

TEST_CASE("precedence follows semver 2.0.0") {
    // The spec's own example chain.
    std::vector<const char*> chain = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                      "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                      "1.0.0-rc.1",  "1.0.0",         "1.0.1",
                                      "1.1.0",       "2.0.0",         "10.0.0"};
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
        CAPTURE(chain[i]);
        CHECK(v(chain[i]) < v(chain[i + 1]));
        CHECK(v(chain[i + 1]) > v(chain[i]));
    }
    CHECK(v("1.0.0+a") == v("1.0.0+b"));
    CHECK(v("1.0.0-2") < v("1.0.0-10"));
    CHECK(v("1.0.0-999") < v("1.0.0-a"));
}

TEST_CASE("exact, partial and wildcard ranges") {
    CHECK(sat("1.2.3", "1.2.3"));
    CHECK_FALSE(sat("1.2.3", "1.2.4"));
    CHECK(sat("=1.2.3", "1.2.3"));
    CHECK(sat("v1.2.3", "1.2.3"));
    CHECK(sat("1", "1.0.0"));
    CHECK(sat("1", "1.9.9"));
    CHECK_FALSE(sat("1", "2.0.0"));
    CHECK_FALSE(sat("1", "0.9.0"));
    CHECK(sat("1.2", "1.2.7"));
    CHECK_FALSE(sat("1.2", "1.3.0"));
    CHECK(sat("1.x", "1.5.0"));
    CHECK(sat("1.2.x", "1.2.0"));
    CHECK(sat("1.*", "1.0.1"));
    CHECK(sat("*", "0.0.1"));
    CHECK(sat("x", "9.9.9"));
    CHECK_FALSE(sat("1.x", "2.0.0"));
}

TEST_CASE("caret ranges including ^0.x rules") {
    CHECK(sat("^1.2.3", "1.2.3"));
    CHECK(sat("^1.2.3", "1.9.0"));
    CHECK_FALSE(sat("^1.2.3", "2.0.0"));
    CHECK_FALSE(sat("^1.2.3", "1.2.2"));
    CHECK(sat("^0.2.3", "0.2.9"));
    CHECK_FALSE(sat("^0.2.3", "0.3.0"));
    CHECK(sat("^0.0.3", "0.0.3"));
    CHECK_FALSE(sat("^0.0.3", "0.0.4"));
    CHECK(sat("^1.2", "1.9.0"));
    CHECK(sat("^0.2", "0.2.5"));
    CHECK_FALSE(sat("^0.2", "0.3.0"));
    CHECK(sat("^0.x", "0.9.0"));
    CHECK_FALSE(sat("^0.x", "1.0.0"));
    CHECK(sat("^0.0.x", "0.0.7"));
    CHECK_FALSE(sat("^0.0.x", "0.1.0"));
    CHECK(sat("^1", "1.4.0"));
    CHECK(sat("^1.0.0", "1.0.0"));
}

TEST_CASE("tilde ranges") {
    CHECK(sat("~1.2.3", "1.2.9"));
    CHECK_FALSE(sat("~1.2.3", "1.3.0"));
    CHECK_FALSE(sat("~1.2.3", "1.2.2"));
    CHECK(sat("~1.2", "1.2.0"));
    CHECK_FALSE(sat("~1.2", "1.3.0"));
    CHECK(sat("~1", "1.9.0"));
    CHECK_FALSE(sat("~1", "2.0.0"));
    CHECK(sat("~0.2.3", "0.2.4"));
    CHECK(sat("~>1.2.3", "1.2.5"));
}

TEST_CASE("comparators with full and partial versions") {
    CHECK(sat(">=1.2.0", "1.2.0"));
    CHECK_FALSE(sat(">=1.2.0", "1.1.9"));
    CHECK(sat(">1", "2.0.0"));
    CHECK_FALSE(sat(">1", "1.9.9"));
    CHECK(sat(">1.2", "1.3.0"));
    CHECK_FALSE(sat(">1.2", "1.2.9"));
    CHECK(sat("<2", "1.9.9"));
    CHECK_FALSE(sat("<2", "2.0.0"));
    CHECK(sat("<=1.2", "1.2.9"));
    CHECK_FALSE(sat("<=1.2", "1.3.0"));
    CHECK(sat("<=1.2.3", "1.2.3"));
    CHECK(sat(">1.2.3", "1.2.4"));
    CHECK_FALSE(sat(">1.2.3", "1.2.3"));
    CHECK(sat(">= 1.2.0", "1.3.0"));
    CHECK_FALSE(sat(">*", "1.0.0"));
    CHECK(sat(">=*", "1.0.0"));
}

TEST_CASE("AND, OR and hyphen ranges") {
    CHECK(sat(">=1.2.0 <2", "1.5.0"));
    CHECK_FALSE(sat(">=1.2.0 <2", "2.0.0"));
    CHECK_FALSE(sat(">=1.2.0 <2", "1.1.0"));
    CHECK(sat("1.x || >=3.0.0", "1.2.0"));
    CHECK(sat("1.x || >=3.0.0", "3.1.0"));
    CHECK_FALSE(sat("1.x || >=3.0.0", "2.5.0"));
    CHECK(sat("^1 || ^2", "2.0.1"));
    CHECK(sat("1.2.3 - 2.3.4", "1.2.3"));
    CHECK(sat("1.2.3 - 2.3.4", "2.3.4"));
    CHECK_FALSE(sat("1.2.3 - 2.3.4", "2.3.5"));
    CHECK(sat("1.2 - 2.3", "2.3.9"));
    CHECK_FALSE(sat("1.2 - 2.3", "2.4.0"));
    CHECK(sat("1.2.3 - 2", "2.9.9"));
    CHECK_FALSE(sat("1.2.3 - 2", "3.0.0"));
}

TEST_CASE("prereleases only match a range naming the same major.minor.patch") {
    CHECK_FALSE(sat("*", "1.0.0-beta"));
    CHECK_FALSE(sat("^1.0.0", "1.1.0-beta"));
    CHECK_FALSE(sat(">=1.0.0", "2.0.0-rc.1"));
    CHECK(sat(">=1.2.3-beta.1", "1.2.3-beta.2"));
    CHECK(sat(">=1.2.3-beta.1", "1.2.4"));
    CHECK_FALSE(sat(">=1.2.3-beta.1", "1.2.4-beta"));
    CHECK_FALSE(sat(">=1.2.3-beta.1", "1.2.3-alpha"));
    CHECK(sat("^1.2.3-beta.2", "1.2.3-beta.3"));
    CHECK(sat("^1.2.3-beta.2", "1.9.0"));
    CHECK_FALSE(sat("^1.2.3-beta.2", "1.3.0-beta"));
    CHECK(sat("1.0.0-rc.1", "1.0.0-rc.1"));
    CHECK_FALSE(sat("<2.0.0", "2.0.0-beta"));
    CHECK(sat("~1.2.3-rc.1", "1.2.3-rc.2"));
}

TEST_CASE("invalid ranges are errors") {
    for (const char* bad :
         {"abc", "1.2.3.4", ">=", "^", "1 || ", "|| 1", "1.2.3-", ">=01.0.0", "1.2-beta", "1 - ", "~~1", "><1"}) {
        CAPTURE(bad);
        CHECK_FALSE(Range::parse(bad).has_value());
    }
}

TEST_CASE("latest and empty ranges") {
    auto latest = Range::parse("latest");
    REQUIRE(latest);
    CHECK(latest->isLatest());
    auto empty = Range::parse("");
    REQUIRE(empty);
    CHECK(empty->isLatest());
    CHECK_FALSE(Range::parse("1")->isLatest());
}

TEST_CASE("bestMatch") {
    std::vector<std::string> versions = {"1.0.0", "1.2.0", "1.10.0", "2.0.0-beta.1", "2.0.0-beta.2", "0.9.0", "bogus"};
    CHECK(bestMatch("^1.0.0", versions) == "1.10.0");
    CHECK(bestMatch("1.2", versions) == "1.2.0");
    CHECK(bestMatch("~1.2.0", versions) == "1.2.0");
    CHECK(bestMatch("latest", versions) == "1.10.0");
    CHECK(bestMatch("", versions) == "1.10.0");
    CHECK(bestMatch("*", versions) == "1.10.0");
    CHECK(bestMatch(">=2.0.0-beta.1", versions) == "2.0.0-beta.2");
    CHECK(bestMatch("^0.9", versions) == "0.9.0");
    CHECK_FALSE(bestMatch("^3", versions).has_value());
    CHECK_FALSE(bestMatch("not a range", versions).has_value());

    std::vector<std::string> only_pre = {"1.0.0-alpha", "1.0.0-beta"};
    CHECK(bestMatch("latest", only_pre) == "1.0.0-beta");
    CHECK_FALSE(bestMatch("*", only_pre).has_value());
    CHECK_FALSE(bestMatch("latest", std::vector<std::string>{}).has_value());
}
