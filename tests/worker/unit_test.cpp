// SPDX-License-Identifier: MIT
// Unit tests of the worker's pure parts: argv, entrypoint resolution, static path safety,
// content types and <base href> injection.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/protocol.h"
#include "buntime/worker/config.h"
#include "buntime/worker/entrypoint.h"
#include "buntime/worker/static_site.h"
#include "worker_client.h"

using namespace buntime::worker;
using buntime::test::TempDir;

TEST_CASE("parseArgs reads every flag and applies defaults") {
    const char* argv[] = {"buntime-worker", "--app-dir", "/srv/a", "--name", "a", "--version", "1.2.3"};
    auto p = parseArgs(7, argv);
    REQUIRE(p.config);
    CHECK(p.config->app_dir == "/srv/a");
    CHECK(p.config->threads == kDefaultThreads);
    CHECK(p.config->concurrency == kDefaultConcurrency);
    CHECK(p.config->max_body == kDefaultMaxBody);
    CHECK_FALSE(p.config->inject_base);

    const char* full[] = {"w",
                          "--app-dir=/x",
                          "--name",
                          "n",
                          "--version",
                          "v",
                          "--entrypoint",
                          "app.so",
                          "--threads",
                          "8",
                          "--concurrency",
                          "7",
                          "--max-body",
                          "123",
                          "--inject-base"};
    p = parseArgs(15, full);
    REQUIRE(p.config);
    CHECK(p.config->app_dir == "/x");
    CHECK(p.config->entrypoint == "app.so");
    CHECK(p.config->threads == 8);
    CHECK(p.config->concurrency == 7);
    CHECK(p.config->max_body == 123);
    CHECK(p.config->inject_base);
}

TEST_CASE("parseArgs rejects bad input with a reason") {
    const char* missing[] = {"w", "--app-dir", "/x", "--name", "n"};
    CHECK(parseArgs(5, missing).error.find("required") != std::string::npos);
    const char* unknown[] = {"w", "--bogus"};
    CHECK(parseArgs(2, unknown).error.find("--bogus") != std::string::npos);
    const char* zero[] = {"w", "--app-dir", "/x", "--name", "n", "--version", "v", "--threads", "0"};
    CHECK(parseArgs(9, zero).error.find("--threads") != std::string::npos);
    const char* junk[] = {"w", "--app-dir", "/x", "--name", "n", "--version", "v", "--max-body", "10mb"};
    CHECK_FALSE(parseArgs(9, junk).config);
    const char* novalue[] = {"w", "--app-dir"};
    CHECK(parseArgs(2, novalue).error.find("missing value") != std::string::npos);
}

TEST_CASE("resolveEntrypoint checks index.html, app.so, app in that order") {
    TempDir dir;
    auto r = resolveEntrypoint(dir.path(), "");
    CHECK_FALSE(r.entry);
    CHECK(r.error.find("no entrypoint") != std::string::npos);

    dir.write("app", "#!/bin/sh\n");
    std::filesystem::permissions(dir / "app", std::filesystem::perms::owner_all);
    r = resolveEntrypoint(dir.path(), "");
    REQUIRE(r.entry);
    CHECK(r.entry->kind == EntrypointKind::Executable);

    dir.write("app.so", "not really");
    r = resolveEntrypoint(dir.path(), "");
    REQUIRE(r.entry);
    CHECK(r.entry->kind == EntrypointKind::SharedObject);

    dir.write("index.html", "<html></html>");
    r = resolveEntrypoint(dir.path(), "");
    REQUIRE(r.entry);
    CHECK(r.entry->kind == EntrypointKind::Static);
    CHECK(r.entry->index_name == "index.html");
    CHECK(kindName(r.entry->kind) == "static");

    r = resolveEntrypoint(dir.path(), "app.so");
    REQUIRE(r.entry);
    CHECK(r.entry->kind == EntrypointKind::SharedObject);

    dir.write("dist/page.html", "<html></html>");
    r = resolveEntrypoint(dir.path(), "dist/page.html");
    REQUIRE(r.entry);
    CHECK(r.entry->static_root == r.entry->app_dir + "/dist");
    CHECK(r.entry->index_name == "page.html");
}

TEST_CASE("resolveEntrypoint refuses paths that escape the app directory") {
    TempDir outside;
    outside.write("evil.so", "x");
    TempDir dir;
    CHECK(resolveEntrypoint(dir.path(), "../evil.so").error.find("escapes") != std::string::npos);
    CHECK(resolveEntrypoint(dir.path(), "sub/../../evil.so").error.find("escapes") != std::string::npos);
    CHECK(resolveEntrypoint(dir.path(), outside / "evil.so").error.find("escapes") != std::string::npos);
    std::filesystem::create_symlink(outside / "evil.so", dir / "app.so");
    CHECK(resolveEntrypoint(dir.path(), "app.so").error.find("escapes") != std::string::npos);
    CHECK(resolveEntrypoint(dir.path(), "").error.find("escapes") != std::string::npos);
    CHECK(resolveEntrypoint(dir.path(), "missing.so").error.find("not found") != std::string::npos);
    CHECK(resolveEntrypoint(dir / "nope", "").error.find("not found") != std::string::npos);
    dir.write("data.txt", "x");
    CHECK(resolveEntrypoint(dir.path(), "data.txt").error.find("not an .html") != std::string::npos);
}

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
}
