// SPDX-License-Identifier: MIT
// Router facade: target → status, app and config through both caches.
#include <doctest/doctest.h>

#include "buntime/router/router.h"
#include "temp_dir.h"

using namespace buntime::router;
using buntime::test::TempDir;
using std::chrono::milliseconds;

namespace {

const TimePoint t0 = TimePoint{} + std::chrono::hours(1);

}  // namespace

TEST_CASE("route maps targets to statuses") {
    TempDir t;
    t.write("r/hello@1.0.0/manifest.yaml", "timeout: 5s\n");
    t.write("r/hello@2.0.0/manifest.yaml", "timeout: 7s\nbogus: 1\n");
    t.write("a/dup@1.0.0/manifest.yaml", "");
    t.write("b/dup@1.0.0/manifest.yaml", "");
    t.write("r/broken@1.0.0/manifest.yaml", "ttl: soon\n");
    Router router(
        RouterOptions{{t.root() / "r", t.root() / "a", t.root() / "b"}, milliseconds(1000), milliseconds(1000)});

    auto ok = router.route("/hello@1/api?q=1", t0);
    REQUIRE(ok.status == RouteStatus::Ok);
    CHECK(ok.http_status == 200);
    CHECK(ok.app.key == "hello@1.0.0");
    CHECK(ok.target.base == "/hello@1");
    CHECK(ok.target.rest == "/api");
    CHECK(ok.manifest->config.timeout == milliseconds(5000));

    auto latest = router.route("/hello", t0);
    REQUIRE(latest.status == RouteStatus::Ok);
    CHECK(latest.app.key == "hello@2.0.0");
    CHECK(latest.manifest->warnings.size() == 1);

    CHECK(router.route("/_/health", t0).status == RouteStatus::Reserved);
    CHECK(router.route("/hello/../x", t0).http_status == 400);
    CHECK(router.route("/", t0).http_status == 404);
    CHECK(router.route("/nope/x", t0).http_status == 404);
    CHECK(router.route("/hello@^9", t0).http_status == 404);

    auto dup = router.route("/dup", t0);
    CHECK(dup.status == RouteStatus::ServerError);
    CHECK(dup.http_status == 500);
    CHECK(dup.message.find("two directories") != std::string::npos);

    auto broken = router.route("/broken", t0);
    CHECK(broken.http_status == 500);
    CHECK(broken.message.find("key 'ttl'") != std::string::npos);
}

TEST_CASE("clearCaches makes new versions visible at once") {
    TempDir t;
    t.write("r/app@1.0.0/manifest.yaml", "");
    Router router(RouterOptions{{t.root() / "r"}, milliseconds(60'000), milliseconds(60'000)});
    CHECK(router.route("/app", t0).app.version == "1.0.0");
    t.write("r/app@1.1.0/manifest.yaml", "");
    CHECK(router.route("/app", t0 + milliseconds(10)).app.version == "1.0.0");
    router.clearCaches();
    CHECK(router.route("/app", t0 + milliseconds(20)).app.version == "1.1.0");
    CHECK(router.listApps().size() == 1);
}

TEST_CASE("virtual hosts: the Host header picks the app, served at / with the whole path") {
    TempDir t;
    t.write("r/tools@1.0.0/manifest.yaml", "hosts: [tools.example.com]\n");
    t.write("r/tools@2.0.0/manifest.yaml", "hosts: [tools.example.com, '*.apps.example.com']\n");
    t.write("r/tools@3.0.0-beta/manifest.yaml", "hosts: [beta.example.com]\n");       // not the latest release
    t.write("r/web/manifest.yaml", "hosts: [tools.example.com, web.example.com]\n");  // loses to tools
    t.write("r/plain@1.0.0/manifest.yaml", "");
    std::vector<std::string> warnings;
    Router router(RouterOptions{{t.root() / "r", t.root() / "missing"},
                                milliseconds(1000),
                                milliseconds(1000),
                                "/_",
                                [&](const std::string& w) { warnings.push_back(w); }});

    auto r = router.route("/plain/x?q=1", "Tools.Example.com:8000", t0);
    REQUIRE(r.status == RouteStatus::Ok);
    CHECK(r.app.key == "tools@2.0.0");  // the unversioned route's version: the latest release
    CHECK(r.target.base == "/");
    CHECK(r.target.rest == "/plain/x");  // the whole path: the first segment is the app's own
    CHECK(r.target.query == "q=1");
    CHECK(router.route("/", "tools.example.com", t0).target.rest == "/");
    CHECK(router.route("/a", "x.y.apps.example.com", t0).app.key == "tools@2.0.0");
    CHECK(router.route("/a", "web.example.com", t0).app.key == "web@0.0.0");
    // Not a vhost: path routing as before.
    CHECK(router.route("/plain/x", "apps.example.com", t0).app.key == "plain@1.0.0");
    CHECK(router.route("/plain/x", "", t0).app.key == "plain@1.0.0");
    CHECK(router.route("/plain/x", "beta.example.com", t0).app.key == "plain@1.0.0");
    CHECK(router.route("/", "unknown.example.com", t0).http_status == 404);
    // Under a vhost the reserved paths stay reserved and traversal is still a 400.
    CHECK(router.route("/_/api/health", "tools.example.com", t0).status == RouteStatus::Reserved);
    CHECK(router.route("/.well-known/x", "tools.example.com", t0).status == RouteStatus::Reserved);
    CHECK(router.route("/a/../b", "tools.example.com", t0).http_status == 400);
    CHECK(router.route("/%2e%2e/b", "tools.example.com", t0).http_status == 400);
    CHECK(router.route("/%41pp", "tools.example.com", t0).status == RouteStatus::Ok);  // no app-name rules

    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0].find("missing (RUNTIME_WORKER_DIRS) does not exist") != std::string::npos);
    CHECK(warnings[1] ==
          "host 'tools.example.com' is claimed by apps tools and web; tools serves it (the name that sorts first)");
}

TEST_CASE("the host index is rebuilt by clearCaches (SIGHUP), not per request") {
    TempDir t;
    t.write("r/app@1.0.0/manifest.yaml", "");
    Router router(RouterOptions{{t.root() / "r"}, milliseconds(0), milliseconds(0)});
    CHECK(router.hosts()->empty());
    t.write("r/app@1.0.0/manifest.yaml", "hosts: [app.example.com]\n");
    CHECK(router.route("/", "app.example.com", t0).http_status == 404);  // not yet indexed
    router.clearCaches();
    CHECK(router.hosts()->size() == 1);
    auto r = router.route("/", "app.example.com", t0);
    REQUIRE(r.status == RouteStatus::Ok);
    CHECK(r.app.key == "app@1.0.0");
}

TEST_CASE("a loaded manifest's warnings are passed on once per file version") {
    TempDir t;
    t.write("r/app@1.0.0/manifest.yaml", "timout: 5s\n");
    std::vector<std::string> warnings;
    Router router(RouterOptions{{t.root() / "r"}, milliseconds(0), milliseconds(0), "/_", [&](const std::string& w) {
                                    warnings.push_back(w);
                                }});
    REQUIRE(warnings.size() == 1);  // at construction (the host index reads each app's manifest)
    CHECK(warnings[0].find("unknown key 'timout' (ignored); did you mean 'timeout'?") != std::string::npos);
    CHECK(warnings[0].find("app@1.0.0/manifest.yaml") != std::string::npos);
    for (int i = 0; i < 3; ++i) CHECK(router.route("/app", t0).status == RouteStatus::Ok);  // no cache: 3 loads
    CHECK(warnings.size() == 1);
    t.write("r/app@1.0.0/manifest.yaml", "timout: 5s\nbogus: 1\n");  // a new version of the file
    CHECK(router.route("/app", t0).status == RouteStatus::Ok);
    CHECK(warnings.size() == 3);
}
