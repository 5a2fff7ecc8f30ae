// SPDX-License-Identifier: MIT
// Unit tests of the worker's pure parts: argv, entrypoint resolution, static path safety,
// content types, <base href> injection and the proto head codecs.
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

    const char* full[] = {"w", "--app-dir=/x", "--name", "n", "--version", "v", "--entrypoint", "app.so", "--threads", "8",
                          "--concurrency", "7", "--max-body", "123", "--inject-base"};
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

namespace {

bool sameHead(const buntime::proto::RequestHead& a, const buntime::proto::RequestHead& b) {
    return a.method == b.method && a.target == b.target && a.path == b.path && a.query == b.query && a.base == b.base &&
           a.request_id == b.request_id && a.headers == b.headers && a.content_length == b.content_length &&
           a.sent_ns == b.sent_ns;
}

} // namespace

// The expected wire format written out by hand: little-endian integers, strings as u32 length + bytes.
class ExpectedBytes {
public:
    ExpectedBytes& le(std::uint64_t v, int width) {
        for (int i = 0; i < width; ++i) out_.push_back(std::byte((v >> (8 * i)) & 0xff));
        return *this;
    }
    ExpectedBytes& str(std::string_view s) {
        le(s.size(), 4);
        for (char c : s) out_.push_back(std::byte(static_cast<unsigned char>(c)));
        return *this;
    }
    const std::vector<std::byte>& bytes() const { return out_; }

private:
    std::vector<std::byte> out_;
};

TEST_CASE("proto request head: exact bytes, round trip, decodeRequestHeadInto reuses a dirty head") {
    buntime::proto::RequestHead h;
    h.method = "POST";
    h.target = "/app/some/long/path/that/does/not/fit/sso?x=1";
    h.path = "/some/long/path/that/does/not/fit/sso";
    h.query = "x=1";
    h.base = "/app";
    h.request_id = "0123456789abcdef0123";
    h.headers = {{"content-type", "application/json"}, {"x-empty", ""}};
    h.content_length = 1234;
    h.sent_ns = 987654321;
    const auto bytes = buntime::proto::encode(h);
    ExpectedBytes expected;
    expected.str(h.method).str(h.target).str(h.path).str(h.query).str(h.base).str(h.request_id);
    expected.le(2, 4).str("content-type").str("application/json").str("x-empty").str("");
    expected.le(1234, 8).le(987654321, 8);
    CHECK(bytes == expected.bytes());

    buntime::proto::RequestHead dirty;
    dirty.method = "GARBAGE";
    dirty.headers = {{"a", "b"}, {"c", "d"}, {"e", "f"}};
    dirty.sent_ns = 5;
    REQUIRE(buntime::proto::decodeRequestHeadInto(bytes, dirty));
    auto reference = buntime::proto::decodeRequestHead(bytes);
    REQUIRE(reference);
    CHECK(sameHead(dirty, *reference));
    CHECK(sameHead(dirty, h));

    // Every truncation and a trailing byte are refused by both entry points.
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        std::span<const std::byte> cut(bytes.data(), n);
        CAPTURE(n);
        CHECK_FALSE(buntime::proto::decodeRequestHead(cut));
        CHECK_FALSE(buntime::proto::decodeRequestHeadInto(cut, dirty));
    }
    auto longer = bytes;
    longer.push_back(std::byte{0});
    CHECK_FALSE(buntime::proto::decodeRequestHead(longer));
    CHECK_FALSE(buntime::proto::decodeRequestHeadInto(longer, dirty));
}

TEST_CASE("proto response head: ResponseHeadBuilder and proto::encode write the exact bytes, which decode back") {
    for (int headers : {0, 1, 5}) {
        buntime::proto::ResponseHead h;
        h.status = 418;
        for (int i = 0; i < headers; ++i) h.headers.emplace_back("x-h" + std::to_string(i), std::string(std::size_t(i) * 7, 'v'));
        h.content_length = headers == 1 ? -1 : 42;
        h.request_received_ns = 111;
        h.handler_ns = 222;
        h.sent_ns = 333;
        ExpectedBytes expected;
        expected.le(418, 2).le(std::uint64_t(headers), 4);
        for (const auto& [k, v] : h.headers) expected.str(k).str(v);
        expected.le(static_cast<std::uint64_t>(h.content_length), 8).le(111, 8).le(222, 8).le(333, 8);
        const auto reference = buntime::proto::encode(h);
        buntime::proto::ResponseHeadBuilder b;
        b.addHeader("junk", "from a previous response");
        b.reset();
        for (const auto& [k, v] : h.headers) b.addHeader(k, v);
        auto built = b.finish(h.status, h.content_length, h.request_received_ns, h.handler_ns, h.sent_ns);
        CAPTURE(headers);
        CHECK(reference == expected.bytes());
        CHECK(std::vector<std::byte>(built.begin(), built.end()) == reference);
        auto decoded = buntime::proto::decodeResponseHead(built);
        REQUIRE(decoded);
        CHECK(decoded->handler_ns == 222);
        CHECK(decoded->status == 418);
        CHECK(decoded->headers == h.headers);
        CHECK(decoded->content_length == h.content_length);
        CHECK(decoded->request_received_ns == 111);
        CHECK(decoded->sent_ns == 333);
    }
}
