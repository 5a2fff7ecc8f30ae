// SPDX-License-Identifier: MIT
// App resolution over temp trees: flat, nested and simple layouts, ranges, collisions.
#include <doctest/doctest.h>

#include <algorithm>

#include "buntime/router/json.h"
#include "buntime/router/resolver.h"
#include "temp_dir.h"

using namespace buntime::router;
using buntime::test::TempDir;
namespace fs = std::filesystem;

namespace {

ResolvedApp ok(const Resolver& r, const char* name, const char* range) {
    auto res = r.resolve(name, range);
    REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().message));
    return *res;
}

ErrorCode fail(const Resolver& r, const char* name, const char* range) {
    auto res = r.resolve(name, range);
    REQUIRE_FALSE(res.has_value());
    return res.error().code;
}

}  // namespace

TEST_CASE("app names") {
    for (const char* good : {"a", "hello", "Hello-World", "app_2", "v1.2", "0x"})
        CHECK_MESSAGE(isValidAppName(good), good);
    for (const char* bad : {"", ".hidden", "_admin", "-dash", "a b", "a/b", "a@1", "a%2e", "..", "a\\b", "ä"})
        CHECK_FALSE_MESSAGE(isValidAppName(bad), bad);
    CHECK(isValidAppName(std::string(214, 'a')));
    CHECK_FALSE(isValidAppName(std::string(215, 'a')));
}

TEST_CASE("the three layouts") {
    TempDir t;
    t.write("r/flat@1.0.0/manifest.yaml", "");
    t.write("r/flat@1.2.0/manifest.yaml", "");
    t.write("r/nest/1.0.0/manifest.yaml", "");
    t.write("r/nest/2.1.0/manifest.yaml", "");
    t.write("r/nest/notes/readme.txt", "x");
    t.write("r/simple/manifest.yaml", "version: 3.0.0\n");
    t.write("r/bare/manifest.yaml", "timeout: 1s\n");
    Resolver r({t.root() / "r"});

    auto flat = ok(r, "flat", "");
    CHECK(flat.version == "1.2.0");
    CHECK(flat.key == "flat@1.2.0");
    CHECK(flat.layout == Layout::Flat);
    CHECK(flat.dir == t.root() / "r/flat@1.2.0");

    auto nest = ok(r, "nest", "latest");
    CHECK(nest.key == "nest@2.1.0");
    CHECK(nest.layout == Layout::Nested);
    CHECK(nest.dir == t.root() / "r/nest/2.1.0");
    CHECK(ok(r, "nest", "1").version == "1.0.0");

    auto simple = ok(r, "simple", "");
    CHECK(simple.key == "simple@3.0.0");
    CHECK(simple.layout == Layout::Simple);
    CHECK(simple.dir == t.root() / "r/simple");
    CHECK(ok(r, "simple", "^3").version == "3.0.0");

    auto bare = ok(r, "bare", "");
    CHECK(bare.version == kSimpleDefaultVersion);
    CHECK(bare.key == "bare@0.0.0");
    CHECK(ok(r, "bare", "*").version == "0.0.0");
    CHECK(fail(r, "bare", "^1") == ErrorCode::NoMatch);
}

TEST_CASE("ranges, latest and prereleases") {
    TempDir t;
    for (const char* v : {"1.0.0", "1.4.2", "1.10.0", "2.0.0-beta.1", "0.3.1"})
        t.write(std::string("r/app@") + v + "/manifest.yaml", "");
    t.write("r/pre@1.0.0-alpha/manifest.yaml", "");
    t.write("r/pre@1.0.0-beta/manifest.yaml", "");
    Resolver r({t.root() / "r"});

    CHECK(ok(r, "app", "").version == "1.10.0");
    CHECK(ok(r, "app", "latest").version == "1.10.0");
    CHECK(ok(r, "app", "^1.0.0").version == "1.10.0");
    CHECK(ok(r, "app", "~1.4.0").version == "1.4.2");
    CHECK(ok(r, "app", "1.0.0").version == "1.0.0");
    CHECK(ok(r, "app", "<1.4").version == "1.0.0");
    CHECK(ok(r, "app", "^0.3").version == "0.3.1");
    CHECK(ok(r, "app", ">=2.0.0-beta.0").version == "2.0.0-beta.1");
    // Prereleases match ranges like any version (the seed's includePrerelease), but the
    // upper bound of ^1 is <2.0.0-0, so 2.0.0-beta.1 is still outside it.
    CHECK(ok(r, "app", ">=1.0.0").version == "2.0.0-beta.1");
    CHECK(ok(r, "app", "^1").version == "1.10.0");
    CHECK(fail(r, "app", "^3") == ErrorCode::NoMatch);
    CHECK(fail(r, "app", "not-a-range") == ErrorCode::InvalidValue);

    CHECK(ok(r, "pre", "latest").version == "1.0.0-beta");  // only prereleases: highest one
    CHECK(ok(r, "pre", "*").version == "1.0.0-beta");
    CHECK(ok(r, "pre", "1.0.0-alpha").version == "1.0.0-alpha");
}

TEST_CASE("not found, invalid names; versioned directories without manifests are apps") {
    TempDir t;
    t.write("r/empty@1.0.0/readme.txt", "no manifest");
    t.write("r/hollow/1.0.0/readme.txt", "no manifest");
    t.write("r/file@1.0.0", "a file, not a dir");
    Resolver r({t.root() / "r", t.root() / "missing-root"});
    CHECK(fail(r, "nope", "") == ErrorCode::NotFound);
    CHECK(ok(r, "empty", "").version == "1.0.0");  // served with the defaults, as in the seed
    CHECK(ok(r, "hollow", "").version == "1.0.0");
    CHECK(fail(r, "file", "") == ErrorCode::NotFound);
    CHECK(fail(r, "../r", "") == ErrorCode::InvalidName);
    CHECK(fail(r, ".hidden", "") == ErrorCode::InvalidName);
}

TEST_CASE("several roots are searched together") {
    TempDir t;
    t.write("a/app@1.0.0/manifest.yaml", "");
    t.write("b/app/2.0.0/manifest.yaml", "");
    t.write("b/other/manifest.yaml", "version: 0.1.0\n");
    Resolver r({t.root() / "a", t.root() / "b"});
    CHECK(ok(r, "app", "").dir == t.root() / "b/app/2.0.0");
    CHECK(ok(r, "app", "1").dir == t.root() / "a/app@1.0.0");
    CHECK(ok(r, "other", "").key == "other@0.1.0");
}

TEST_CASE("the same name@version in two directories is a collision naming both") {
    TempDir t;
    t.write("a/app@1.0.0/manifest.yaml", "");
    t.write("b/app/1.0.0/manifest.yaml", "");
    t.write("b/app/0.5.0/manifest.yaml", "");
    Resolver r({t.root() / "a", t.root() / "b"});
    auto res = r.resolve("app", "");
    REQUIRE_FALSE(res);
    CHECK(res.error().code == ErrorCode::Collision);
    CHECK(res.error().message.find((t.root() / "a/app@1.0.0").string()) != std::string::npos);
    CHECK(res.error().message.find((t.root() / "b/app/1.0.0").string()) != std::string::npos);
    CHECK(res.error().message.find("app@1.0.0") != std::string::npos);
    // A version that does not collide still resolves.
    CHECK(ok(r, "app", "0.5").key == "app@0.5.0");

    // Simple layout colliding with flat in the same root.
    TempDir t2;
    t2.write("r/svc@2.0.0/manifest.yaml", "");
    t2.write("r/svc/manifest.yaml", "version: 2.0.0\n");
    CHECK(fail(Resolver({t2.root() / "r"}), "svc", "") == ErrorCode::Collision);
}

TEST_CASE("a root listed twice is not a collision") {
    TempDir t;
    t.write("r/app@1.0.0/manifest.yaml", "");
    Resolver r({t.root() / "r", t.root() / "r/", t.root() / "r/../r"});
    CHECK(r.roots().size() == 1);
    CHECK(ok(r, "app", "").key == "app@1.0.0");
}

TEST_CASE("a broken simple manifest is reported") {
    TempDir t;
    t.write("r/broken/manifest.yaml", "version: [1\n");
    Resolver r({t.root() / "r"});
    auto res = r.resolve("broken", "");
    REQUIRE_FALSE(res);
    CHECK(res.error().code == ErrorCode::BadManifest);
    CHECK(res.error().message.find("broken/manifest.yaml") != std::string::npos);
}

TEST_CASE("listApps reports every app, version and error") {
    TempDir t;
    t.write("a/alpha@1.0.0/manifest.yaml", "");
    t.write("a/alpha@2.0.0/manifest.yaml", "timeout: abc\n");
    t.write("a/beta/manifest.yaml", "");
    t.write("a/gamma/1.0.0/manifest.yaml", "");
    t.write("b/gamma/1.0.0/manifest.yaml", "");
    t.write("a/junk/readme.txt", "");
    t.write("a/alpha@bad/manifest.yaml", "");
    Resolver r({t.root() / "a", t.root() / "b"});
    auto apps = r.listApps();
    REQUIRE(apps.size() == 3);
    CHECK(apps[0].name == "alpha");
    REQUIRE(apps[0].versions.size() == 2);
    CHECK(apps[0].versions[0].version == "2.0.0");
    CHECK(apps[0].versions[0].error.message.find("key 'timeout'") != std::string::npos);
    CHECK(apps[0].versions[1].version == "1.0.0");
    CHECK(apps[0].versions[1].error.message.empty());
    REQUIRE(apps[0].errors.size() == 1);
    CHECK(apps[0].errors[0].message.find("alpha@bad") != std::string::npos);
    CHECK(apps[1].name == "beta");
    CHECK(apps[1].versions.at(0).layout == Layout::Simple);
    CHECK(apps[2].name == "gamma");
    REQUIRE(apps[2].versions.size() == 2);
    CHECK(apps[2].versions[0].error.message.find("collision") != std::string::npos);
    CHECK(apps[2].versions[1].error.message.find("collision") != std::string::npos);

    auto j = toJson(apps);
    CHECK(j.size() == 3);
    CHECK(j[1]["versions"][0]["layout"] == "simple");
    CHECK(j[0]["versions"][0].contains("error"));
    CHECK_FALSE(j[0]["versions"][1].contains("error"));
}
