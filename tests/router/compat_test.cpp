// SPDX-License-Identifier: MIT
// The Bun-based runtime's manifest and directory conventions: manifest.yml, versioned
// directories without a manifest, the `latest` tag, prereleases in ranges, bad ranges (404 with
// the reason), an informational `version`, durations and booleans as its parser reads them, and
// the reserved root following RUNTIME_API_PREFIX.
#include <doctest/doctest.h>

#include <algorithm>

#include "buntime/router/manifest.h"
#include "buntime/router/router.h"
#include "temp_dir.h"

using namespace buntime::router;
using buntime::test::TempDir;
using std::chrono::milliseconds;

namespace {

const TimePoint t0{};

Router makeRouter(const TempDir& t, std::string reserved_root = "/_") {
    RouterOptions o;
    o.roots = {t.root() / "r"};
    o.reserved_root = std::move(reserved_root);
    return Router(o);
}

Manifest parsed(const char* yaml) {
    auto m = parseManifest(yaml, "m.yaml");
    REQUIRE_MESSAGE(m.has_value(), (m ? "" : m.error().message));
    return *m;
}

}  // namespace

TEST_CASE("manifest.yml is read when there is no manifest.yaml; .yaml wins") {
    TempDir t;
    t.write("r/yml@1.0.0/manifest.yml", "timeout: 7s\n");
    t.write("r/both@1.0.0/manifest.yml", "timeout: 7s\n");
    t.write("r/both@1.0.0/manifest.yaml", "timeout: 9s\n");
    t.write("r/simple/manifest.yml", "version: 2.0.0\n");
    Router router = makeRouter(t);
    auto yml = router.route("/yml/", t0);
    REQUIRE(yml.status == RouteStatus::Ok);
    CHECK(yml.manifest->config.timeout == milliseconds(7000));
    CHECK(router.route("/both/", t0).manifest->config.timeout == milliseconds(9000));
    auto simple = router.route("/simple/", t0);
    REQUIRE(simple.status == RouteStatus::Ok);
    CHECK(simple.app.key == "simple@2.0.0");
}

TEST_CASE("a versioned directory without a manifest is served with the defaults") {
    TempDir t;
    t.write("r/flat@1.0.0/app.so", "x");
    t.write("r/nest/2.0.0/app.so", "x");
    t.write("r/pkg/package.json", "{}");  // the seed's simple layout marker
    Router router = makeRouter(t);
    auto flat = router.route("/flat/", t0);
    REQUIRE(flat.status == RouteStatus::Ok);
    CHECK(flat.manifest->config.timeout == milliseconds(30000));
    CHECK(flat.manifest->config.ephemeral());
    CHECK(router.route("/nest/", t0).app.key == "nest@2.0.0");
    CHECK(router.route("/pkg/", t0).status == RouteStatus::Ok);
}

TEST_CASE("the latest tag directory: taken for the bare name and @latest, never for a range") {
    TempDir t;
    t.write("r/flat@1.0.0/manifest.yaml", "");
    t.write("r/flat@2.0.0/manifest.yaml", "");
    t.write("r/flat@latest/manifest.yaml", "");
    t.write("r/nest/1.0.0/manifest.yaml", "");
    t.write("r/nest/latest/manifest.yaml", "");
    t.write("r/plain@1.0.0/manifest.yaml", "");
    Router router = makeRouter(t);
    CHECK(router.route("/flat/", t0).app.key == "flat@latest");
    CHECK(router.route("/flat@latest/", t0).app.key == "flat@latest");
    CHECK(router.route("/flat@2/", t0).app.key == "flat@2.0.0");
    CHECK(router.route("/nest/", t0).app.key == "nest@latest");
    CHECK(router.route("/nest@1/", t0).app.key == "nest@1.0.0");
    // No tag directory: @latest is the highest release (the seed answers 404 here).
    CHECK(router.route("/plain@latest/", t0).app.key == "plain@1.0.0");
    // Listed first, as the seed lists versions.
    auto apps = router.listApps();
    auto it = std::find_if(apps.begin(), apps.end(), [](const AppInfo& a) { return a.name == "flat"; });
    REQUIRE(it != apps.end());
    CHECK(it->versions.front().version == "latest");
}

TEST_CASE("prereleases match ranges like any version (includePrerelease)") {
    TempDir t;
    t.write("r/app@1.0.0/manifest.yaml", "");
    t.write("r/app@1.5.0-beta.1/manifest.yaml", "");
    t.write("r/app@2.0.0-rc.1/manifest.yaml", "");
    Router router = makeRouter(t);
    CHECK(router.route("/app@%5E1.0.0/", t0).app.key == "app@1.5.0-beta.1");
    CHECK(router.route("/app@1.x/", t0).app.key == "app@1.5.0-beta.1");
    CHECK(router.route("/app@>=1.0.0/", t0).app.key == "app@2.0.0-rc.1");
    CHECK(router.route("/app/", t0).app.key == "app@1.0.0");  // bare name: a release first
}

TEST_CASE("a range that does not parse is 404 with the reason") {
    TempDir t;
    t.write("r/app@1.0.0/manifest.yaml", "");
    Router router = makeRouter(t);
    auto r = router.route("/app@not-a-range!/x", t0);
    CHECK(r.status == RouteStatus::NotFound);
    CHECK(r.http_status == 404);
    CHECK(r.message.find("invalid version range \"not-a-range!\"") != std::string::npos);
    CHECK(r.target.kind == TargetKind::App);  // the caller answers APP_NOT_FOUND
}

TEST_CASE("version that is not semver is informational, never a failure") {
    TempDir t;
    t.write("r/app@1.0.0/manifest.yaml", "version: build-42\n");
    t.write("r/simple/manifest.yaml", "version: v-next\n");
    Router router = makeRouter(t);
    auto r = router.route("/app/", t0);
    REQUIRE(r.status == RouteStatus::Ok);
    CHECK(r.manifest->config.version.empty());
    REQUIRE(r.manifest->warnings.size() == 1);
    CHECK(r.manifest->warnings[0].find("informational") != std::string::npos);
    CHECK(router.route("/simple/", t0).app.key == "simple@0.0.0");
}

TEST_CASE("durations and booleans as the seed's parser reads them") {
    // Unquoted numbers are seconds; a quoted bare number is milliseconds (ms("30")), with a warning.
    CHECK(parsed("timeout: 30\n").config.timeout == milliseconds(30000));
    const Manifest quoted = parsed("timeout: \"30\"\nttl: '2.5'\n");
    CHECK(quoted.config.timeout == milliseconds(30));
    CHECK(quoted.config.ttl == milliseconds(2));
    CHECK(quoted.warnings.size() == 2);
    CHECK(parsed("timeout: \"30s\"\n").config.timeout == milliseconds(30000));
    CHECK(parsed("ttl: 1y\n").config.ttl == milliseconds(31'557'600'000));
    // "1"/"0" as the seed's boolean(); yes/no read as meant, with a warning.
    CHECK(parsed("injectBase: \"1\"\n").config.inject_base);
    CHECK_FALSE(parsed("lowMemory: \"0\"\n").config.low_memory);
    const Manifest yes = parsed("injectBase: yes\n");
    CHECK(yes.config.inject_base);
    REQUIRE(yes.warnings.size() == 1);
    CHECK(yes.warnings[0].find("seed") != std::string::npos);
    CHECK(parsed("injectBase: true\n").warnings.empty());
}

TEST_CASE("the reserved root follows RUNTIME_API_PREFIX") {
    CHECK(parseTarget("/ops/api/health", "/ops").kind == TargetKind::Reserved);
    CHECK(parseTarget("/ops", "/ops").kind == TargetKind::Reserved);
    CHECK(parseTarget("/opsx/", "/ops").kind == TargetKind::App);
    CHECK(parseTarget("/api/apps", "/api").kind == TargetKind::Reserved);
    CHECK(parseTarget("/.well-known/buntime", "/ops").kind == TargetKind::Reserved);
    TempDir t;
    t.write("r/ops@1.0.0/manifest.yaml", "");
    Router router = makeRouter(t, "/ops");
    CHECK(router.route("/ops/", t0).status == RouteStatus::Reserved);
    CHECK(makeRouter(t).route("/ops/", t0).status == RouteStatus::Ok);
}
