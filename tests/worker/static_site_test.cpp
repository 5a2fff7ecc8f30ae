// SPDX-License-Identifier: MIT
// worker/static_site: path decoding and traversal refusal, content types, <base href>
// injection.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "buntime/worker/static_site.h"

using namespace buntime::worker;

TEST_CASE("decodePath and safeSegments refuse traversal, including encoded") {
    CHECK(decodePath("/a%20b") == std::optional<std::string>("/a b"));
    CHECK_FALSE(decodePath("/a%2"));
    CHECK_FALSE(decodePath("/a%zz"));
    CHECK_FALSE(decodePath("/a%00b"));
    CHECK_FALSE(safeSegments(*decodePath("/%2e%2e/etc/passwd")));
    CHECK_FALSE(safeSegments(*decodePath("/assets/%2E%2E/%2e%2e/x")));
    CHECK_FALSE(safeSegments("/a/../b"));
    CHECK_FALSE(safeSegments("/a\\..\\b"));
    auto ok = safeSegments("//a/./b/");
    REQUIRE(ok);
    CHECK(*ok == std::vector<std::string>{"a", "b"});
    CHECK(safeSegments("/")->empty());
}

TEST_CASE("contentType maps common extensions") {
    CHECK(contentType("index.html") == "text/html; charset=utf-8");
    CHECK(contentType("APP.JS") == "text/javascript; charset=utf-8");
    CHECK(contentType("style.css") == "text/css; charset=utf-8");
    CHECK(contentType("logo.svg") == "image/svg+xml");
    CHECK(contentType("font.woff2") == "font/woff2");
    CHECK(contentType("data.json") == "application/json");
    CHECK(contentType("blob") == "application/octet-stream");
    CHECK(contentType(".hidden") == "application/octet-stream");
}

TEST_CASE("injectBase escapes and places the tag after <head>") {
    CHECK(htmlEscape("a\"<b>&'") == "a&quot;&lt;b&gt;&amp;&#39;");
    CHECK(injectBase("<html><head><title>x</title></head></html>", "/app") ==
          "<html><head><base href=\"/app/\"><title>x</title></head></html>");
    CHECK(injectBase("<HEAD lang=en>x", "/a@1.2/") == "<HEAD lang=en><base href=\"/a@1.2/\">x");
    CHECK(injectBase("<header>h</header>", "/a") == "<base href=\"/a/\"><header>h</header>");
    CHECK(injectBase("<head>", "/\"><script>") == "<head><base href=\"/&quot;&gt;&lt;script&gt;/\">");
    CHECK(injectBase("<HeAd/>x", "/a") == "<HeAd/><base href=\"/a/\">x");
    CHECK(injectBase("text <hea", "/a") == "<base href=\"/a/\">text <hea");
}
