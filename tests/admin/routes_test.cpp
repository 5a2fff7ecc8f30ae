// SPDX-License-Identifier: MIT
// The admin route table with a fake SupervisorView: reads, the auth matrix of mutating calls,
// 404/405, the retire key, the Prometheus page, and failures turned into replies.
#include <doctest/doctest.h>

#include "buntime/admin/prometheus.h"
#include "buntime/admin/routes.h"
#include "golden.h"

#include <stdexcept>

using namespace buntime::admin;
namespace golden = buntime::test::golden;

namespace {

// The golden answers, plus a record of what the API asked for.
class FakeSupervisorView final : public SupervisorView {
public:
    HealthView health() override { return golden::json("health").get<HealthView>(); }
    MetricsView metrics() override {
        if (fail) throw std::runtime_error("metrics exploded");
        return golden::json("metrics").get<MetricsView>();
    }
    std::vector<WorkerRow> workers() override { return golden::json("workers").get<WorkersReply>().workers; }
    std::vector<AppRow> apps() override { return golden::json("apps").get<AppsReply>().apps; }
    bool draining() const override { return is_draining; }
    void reload() override { ++reloads; }
    bool retire(std::string_view key) override {
        retired.emplace_back(key);
        return key == "hello@1.0.0";
    }

    bool is_draining = false;
    bool fail = false;
    int reloads = 0;
    std::vector<std::string> retired;
};

constexpr const char* kForbidden =
    R"({"code":"FORBIDDEN","error":"FORBIDDEN","message":"mutating admin calls are disabled: set RUNTIME_ADMIN_TOKEN )"
    R"j(or use the admin socket (RUNTIME_ADMIN_SOCKET)","success":false})j";
constexpr const char* kUnauthorized =
    R"({"code":"UNAUTHORIZED","error":"UNAUTHORIZED","message":"missing or wrong bearer token","success":false})";

Reply call(AdminApi& api, std::string_view method, std::string_view path, const std::string* auth = nullptr,
           bool admin_socket = false) {
    return api.handle({method, path, auth, admin_socket, {}});
}

}  // namespace

TEST_CASE("reads are open over TCP and answer the views exactly as the golden files") {
    FakeSupervisorView view;
    AdminApi api(view, "");  // no token configured
    for (const auto& [path, name] : {std::pair{"/_/api/health", "health"},
                                     {"/_/health", "health"},
                                     {"/_/api/metrics", "metrics"},
                                     {"/_/api/workers", "workers"},
                                     {"/_/api/apps", "apps"}}) {
        CAPTURE(path);
        for (const char* method : {"GET", "HEAD"}) {
            const Reply r = call(api, method, path);
            CHECK(r.status == 200);
            CHECK(r.content_type == "application/json");
            CHECK(r.body == golden::body(name));
        }
    }
    const Reply live = call(api, "GET", "/_/api/health/live");
    CHECK(live.status == 200);
    CHECK(live.body == R"({"live":true,"ok":true,"status":"live","version":"0.1.0"})");
    const Reply ready = call(api, "GET", "/_/api/health/ready");
    CHECK(ready.status == 200);
    CHECK(ready.body == R"({"ok":true,"ready":true,"status":"ready","version":"0.1.0"})");
    view.is_draining = true;
    const Reply draining = call(api, "GET", "/_/api/health/ready");
    CHECK(draining.status == 503);
    CHECK(draining.body == R"({"ok":false,"ready":false,"status":"draining","version":"0.1.0"})");

    const Reply prom = call(api, "GET", "/_/metrics");
    CHECK(prom.status == 200);
    CHECK(prom.content_type == "text/plain; version=0.0.4");
    CHECK(prom.body == renderPrometheus(view.metrics(), view.workers()));
    CHECK(prom.body.find("buntime_total_requests_total 101\n") != std::string::npos);
}

TEST_CASE("POST reload: 403 without a configured token, 401 on a missing or wrong one, 200 on the right one") {
    FakeSupervisorView view;
    const std::string right = "Bearer s3cret", wrong = "Bearer nope", empty = "Bearer ";

    AdminApi closed(view, "");
    Reply r = call(closed, "POST", "/_/api/reload");
    CHECK(r.status == 403);
    CHECK(r.body == kForbidden);
    CHECK(call(closed, "POST", "/_/api/reload", &right).status == 403);  // any token: none is configured
    CHECK(call(closed, "POST", "/_/api/reload", &empty).status == 403);
    CHECK(view.reloads == 0);

    AdminApi open(view, "s3cret");
    r = call(open, "POST", "/_/api/reload");
    CHECK(r.status == 401);
    CHECK(r.body == kUnauthorized);
    r = call(open, "POST", "/_/api/reload", &wrong);
    CHECK(r.status == 401);
    CHECK(r.body == kUnauthorized);
    CHECK(view.reloads == 0);
    r = call(open, "POST", "/_/api/reload", &right);
    CHECK(r.status == 200);
    CHECK(r.body == R"({"reloaded":true})");
    CHECK(view.reloads == 1);
}

TEST_CASE("the admin socket needs no token, configured or not") {
    FakeSupervisorView view;
    AdminApi closed(view, "");
    const Reply r = call(closed, "POST", "/_/api/reload", nullptr, true);
    CHECK(r.status == 200);
    CHECK(view.reloads == 1);
    AdminApi open(view, "s3cret");
    const std::string wrong = "Bearer nope";
    CHECK(call(open, "POST", "/_/api/workers/hello@1.0.0/retire", &wrong, true).status == 200);
}

TEST_CASE("unknown paths are 404, a read path with POST too; a mutating path with GET is 405") {
    FakeSupervisorView view;
    AdminApi api(view, "s3cret");
    const std::string right = "Bearer s3cret";
    Reply r = call(api, "GET", "/_/api/nothing");
    CHECK(r.status == 404);
    CHECK(r.body ==
          R"({"code":"NOT_FOUND","error":"NOT_FOUND","message":"no admin route /_/api/nothing","success":false})");
    CHECK(call(api, "GET", "/_").status == 404);
    CHECK(call(api, "POST", "/_/api/health", &right).status == 404);
    CHECK(call(api, "DELETE", "/_/api/workers", &right).status == 404);
    for (const char* path : {"/_/api/reload", "/_/api/workers/hello@1.0.0/retire"}) {
        CAPTURE(path);
        for (const char* method : {"GET", "HEAD", "PUT"}) {
            r = call(api, method, path, &right);
            CHECK(r.status == 405);
            CHECK(r.body ==
                  R"({"code":"METHOD_NOT_ALLOWED","error":"METHOD_NOT_ALLOWED","message":"use POST","success":false})");
        }
    }
    CHECK(view.reloads == 0);
    CHECK(view.retired.empty());
}

TEST_CASE("retire: 404 for a key without a live worker, 200 for a percent-encoded live one") {
    FakeSupervisorView view;
    AdminApi api(view, "s3cret");
    const std::string right = "Bearer s3cret";
    Reply r = call(api, "POST", "/_/api/workers/nope@1.0.0/retire", &right);
    CHECK(r.status == 404);
    CHECK(r.body ==
          R"({"code":"NOT_FOUND","error":"NOT_FOUND","message":"no live worker nope@1.0.0","success":false})");

    r = call(api, "POST", "/_/api/workers/hello%401.0.0/retire", &right);
    CHECK(r.status == 200);
    CHECK(r.body == R"({"retired":"hello@1.0.0"})");
    REQUIRE(view.retired.size() == 2);
    CHECK(view.retired[1] == "hello@1.0.0");

    // A malformed escape is taken as written; the shared '/' leaves the key "retire".
    call(api, "POST", "/_/api/workers/a%zz/retire", &right);
    CHECK(view.retired.back() == "a%zz");
    call(api, "POST", "/_/api/workers/retire", &right);
    CHECK(view.retired.back() == "retire");
    // Bytes that are not UTF-8 still give a JSON reply.
    r = call(api, "POST", "/_/api/workers/x%ff/retire", &right);
    CHECK(r.status == 404);
    CHECK(nlohmann::json::parse(r.body)["message"] == "no live worker x\xEF\xBF\xBD");
}

TEST_CASE("a failure inside the supervisor becomes a 500 reply") {
    FakeSupervisorView view;
    view.fail = true;
    AdminApi api(view, "");
    const Reply r = call(api, "GET", "/_/api/metrics");
    CHECK(r.status == 500);
    CHECK(r.content_type == "application/json");
    CHECK(nlohmann::json::parse(r.body)["error"] == "INTERNAL_ERROR");
    CHECK(call(api, "GET", "/_/metrics").status == 500);
    CHECK(call(api, "GET", "/_/api/health").status == 200);  // the next call is fine
}

TEST_CASE("isAdminPath: /_ and /_/..., nothing else") {
    CHECK(AdminApi::isAdminPath("/_"));
    CHECK(AdminApi::isAdminPath("/_/api/health"));
    CHECK(AdminApi::isAdminPath("/_/"));
    CHECK_FALSE(AdminApi::isAdminPath("/_x"));
    CHECK_FALSE(AdminApi::isAdminPath("/_?q=1"));
    CHECK_FALSE(AdminApi::isAdminPath("/.well-known/x"));
    CHECK_FALSE(AdminApi::isAdminPath("/app/_/api"));
    CHECK_FALSE(AdminApi::isAdminPath(""));
}
