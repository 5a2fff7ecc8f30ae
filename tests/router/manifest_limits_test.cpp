// SPDX-License-Identifier: MIT
// Manifest limits: size (1 MiB), nodes with aliases expanded, alias count; bytes that are
// not UTF-8; every error names the file, and the key when there is one.
#include <doctest/doctest.h>

#include "buntime/router/json.h"
#include "buntime/router/manifest.h"
#include "temp_dir.h"

using namespace buntime::router;
using buntime::test::TempDir;

namespace {

constexpr std::string_view kSource = "apps/x/manifest.yaml";

Error err(const std::string& yaml) {
    auto r = parseManifest(yaml, kSource);
    REQUIRE_FALSE(r.has_value());
    return r.error();
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// "billion laughs": each level is a list of ten aliases of the level above.
std::string laughs(int levels) {
    std::string y = "l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n";
    for (int i = 1; i <= levels; ++i) {
        const std::string name = std::to_string(i), prev = std::to_string(i - 1);
        y.append("l").append(name).append(": &l").append(name).append(" [");
        for (int k = 0; k < 10; ++k) y.append(k ? ", *l" : "*l").append(prev);
        y.append("]\n");
    }
    return y;
}

}  // namespace

TEST_CASE("a manifest over 1 MiB is refused before parsing, naming file and limit") {
    std::string big = "env:\n  BIG: \"" + std::string(kMaxManifestBytes, 'x') + "\"\n";
    auto e = err(big);
    CHECK(e.code == ErrorCode::BadManifest);
    CHECK(e.file == kSource);
    CHECK(contains(e.message, kSource));
    CHECK(contains(e.message, "1048576"));

    // loadManifest reads no more than the limit and says the same.
    TempDir t;
    t.write("app/manifest.yaml", big);
    auto loaded = loadManifest(t.root() / "app" / "manifest.yaml");
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code == ErrorCode::BadManifest);
    CHECK(contains(loaded.error().message, "manifest.yaml: manifest is " + std::to_string(big.size()) + " bytes"));

    // Just under the limit is fine.
    std::string fits = "env:\n  BIG: \"" + std::string(kMaxManifestBytes - 64, 'x') + "\"\n";
    auto r = parseManifest(fits, kSource);
    REQUIRE(r);
    CHECK(r->config.env.at("BIG").size() == kMaxManifestBytes - 64);
}

TEST_CASE("alias expansion is bounded: billion laughs fails fast, naming the key") {
    // 10^9 nodes once expanded, from a few hundred bytes.
    auto e = err(laughs(9));
    CHECK(e.code == ErrorCode::BadManifest);
    CHECK(contains(e.message, kSource));
    CHECK(contains(e.message, "aliases expanded"));
    CHECK(contains(e.message, std::to_string(kMaxManifestNodes)));
    CHECK(e.key == "l4");  // 10^4 nodes per entry of l4: the limit is passed inside it

    // Two levels (about a thousand nodes) are fine: aliases themselves are allowed.
    auto ok = parseManifest("x-defaults: &d {timeout: 5s}\n" + laughs(2), kSource);
    CHECK(ok);
}

TEST_CASE("too many aliases or nodes are refused") {
    std::string many = "a: &a x\nlist: [";
    for (std::uint64_t i = 0; i <= kMaxManifestAliases; ++i) many += (i ? ", *a" : "*a");
    many += "]\n";
    auto e = err(many);
    CHECK(contains(e.message, "aliases"));
    CHECK(e.key == "list");

    std::string wide = "publicRoutes: [";
    for (std::uint64_t i = 0; i <= kMaxManifestNodes; ++i) wide += (i ? ",/a" : "/a");
    wide += "]\n";
    CHECK(wide.size() < kMaxManifestBytes);
    e = err(wide);
    CHECK(e.key == "publicRoutes");
    CHECK(contains(e.message, "YAML nodes"));
}

TEST_CASE("a Latin-1 byte in a manifest is an error or a value, and JSON of it never throws") {
    // In a value: parsed (or refused), never thrown; the admin JSON of it dumps safely.
    auto r = parseManifest("env:\n  GREETING: \"caf\xe9\"\n", kSource);
    if (r) {
        const auto j = toJson(r->config);
        CHECK_NOTHROW((void)j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
        CHECK(r.error().file == kSource);
    }
    // In a key and in a bad value: the error message carries the byte; nothing throws.
    CHECK_NOTHROW((void)parseManifest("caf\xe9: 1\ntimeout: \"\xff\"\n", kSource));
    auto bad = parseManifest("timeout: \"\xff\"\n", kSource);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().key == "timeout");
}
