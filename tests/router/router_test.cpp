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
