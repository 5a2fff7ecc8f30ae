// SPDX-License-Identifier: MIT
// The Bun-based runtime's surfaces of the admin API: discovery, the API prefix rule, the apps
// shape, health keys, error bodies and the 16 Prometheus series, against the golden views.
#include <doctest/doctest.h>

#include "buntime/admin/compat_views.h"
#include "buntime/admin/pool_views.h"
#include "buntime/admin/prometheus.h"
#include "buntime/admin/routes.h"
#include "golden.h"

using namespace buntime::admin;
using nlohmann::json;
namespace golden = buntime::test::golden;

namespace {

class GoldenView final : public SupervisorView {
public:
    HealthView health() override { return golden::json("health").get<HealthView>(); }
    MetricsView metrics() override { return golden::json("metrics").get<MetricsView>(); }
    std::vector<WorkerRow> workers() override { return golden::json("workers").get<WorkersReply>().workers; }
    std::vector<AppRow> apps() override { return golden::json("apps").get<AppsReply>().apps; }
    bool draining() const override { return false; }
    void reload() override {}
    bool retire(std::string_view) override { return false; }
};

Reply get(AdminApi& api, std::string_view path, std::string_view query = {}) {
    return api.handle({"GET", path, nullptr, false, {}, query});
}

// Every key of the golden file in `live`, with the same JSON type.
void checkShape(const json& gold, const json& live) {
    REQUIRE(gold.type() == live.type());
    if (gold.is_object())
        for (const auto& [k, v] : gold.items()) {
            CAPTURE(k);
            REQUIRE(live.contains(k));
            if (!v.is_number()) CHECK(live[k].type() == v.type());
        }
}

}  // namespace

TEST_CASE("GET /.well-known/buntime says where the API is") {
    GoldenView view;
    AdminApi api(view, "");
    const Reply r = get(api, "/.well-known/buntime");
    CHECK(r.status == 200);
    CHECK(json::parse(r.body) == golden::json("bun_well_known"));
    CHECK(api.answers("/.well-known/buntime?x=1"));
    CHECK(get(api, "/.well-known/other").status == 404);
    CHECK(json::parse(get(api, "/.well-known/other").body)["success"] == false);

    AdminApi ops(view, "", AdminOptions{"/ops", false});
    CHECK(json::parse(get(ops, "/.well-known/buntime").body)["api"] == "/ops/api");
}

TEST_CASE("RUNTIME_API_PREFIX moves every route, as the seed's rule") {
    GoldenView view;
    AdminApi ops(view, "", AdminOptions{"/ops", false});
    CHECK(ops.answers("/ops"));
    CHECK(ops.answers("/ops/api/health"));
    CHECK_FALSE(ops.answers("/opsx"));
    CHECK_FALSE(ops.answers("/_/api/health"));
    CHECK(get(ops, "/ops/api/health").status == 200);
    CHECK(get(ops, "/ops/health").status == 200);
    CHECK(get(ops, "/ops/metrics").content_type.starts_with("text/plain"));
    CHECK(get(ops, "/_/api/health").status == 404);

    // "/" is the seed's default: the API at /api, /api reserved; the JSON metrics keep
    // /api/metrics and the Prometheus page is /api/metrics/prometheus.
    AdminApi bare(view, "", AdminOptions{"", false});
    CHECK(bare.answers("/api/apps"));
    CHECK_FALSE(bare.answers("/_/api/apps"));
    CHECK(get(bare, "/api/metrics").content_type == "application/json");
    CHECK(get(bare, "/api/metrics/prometheus").content_type.starts_with("text/plain"));
    CHECK(get(bare, "/api/health").status == 200);
}

TEST_CASE("parseApiPrefix, apiPath and reservedRoot follow the seed's constants.ts") {
    CHECK(*parseApiPrefix("") == "/_");
    CHECK(*parseApiPrefix("/_") == "/_");
    CHECK(*parseApiPrefix("/_//") == "/_");
    CHECK(parseApiPrefix("/")->empty());
    CHECK(*parseApiPrefix("/a/b") == "/a/b");
    for (const char* bad : {"x", "/a b", "/a?b", "/a/../b", "/a//b", "/%61"}) {
        CAPTURE(bad);
        CHECK_FALSE(parseApiPrefix(bad));
    }
    CHECK(apiPath("/_") == "/_/api");
    CHECK(apiPath("") == "/api");
    CHECK(reservedRoot("/_") == "/_");
    CHECK(reservedRoot("") == "/api");
}

TEST_CASE("health, ready and live carry the seed's ok, status and version") {
    GoldenView view;
    AdminApi api(view, "");
    checkShape(golden::json("bun_health"), json::parse(get(api, "/_/api/health").body));
    checkShape(golden::json("bun_health_ready"), json::parse(get(api, "/_/api/health/ready").body));
    checkShape(golden::json("bun_health_live"), json::parse(get(api, "/_/api/health/live").body));
    CHECK(json::parse(get(api, "/_/api/health").body)["status"] == "healthy");
    CHECK(json::parse(get(api, "/_/api/health/ready").body)["status"] == "ready");
    CHECK(json::parse(get(api, "/_/api/health/live").body)["status"] == "live");
}

TEST_CASE("apps: ?format=bun and RUNTIME_API_COMPAT=bun give the bare array") {
    GoldenView view;
    AdminApi api(view, "");
    const json bun = json::parse(get(api, "/_/api/apps", "format=bun").body);
    REQUIRE(bun.is_array());
    // hello and bad (rows with a dir); the app-level error row "broken" has none.
    CHECK(bun == json::array({{{"name", "hello"}, {"path", "/x"}, {"versions", {"1.0.0"}}},
                              {{"name", "bad"}, {"path", "/x"}, {"versions", {"2.0.0"}}}}));
    for (const auto& app : bun) CHECK(app.size() == golden::json("bun_apps")[0].size());
    CHECK(json::parse(get(api, "/_/api/apps").body).is_object());  // native by default
    CHECK(get(api, "/_/api/apps", "format=xml").status == 400);

    AdminApi compat(view, "", AdminOptions{"/_", true});
    CHECK(json::parse(get(compat, "/_/api/apps").body) == bun);
    CHECK(json::parse(get(compat, "/_/api/apps", "a=1&format=native").body).is_object());
}

TEST_CASE("bunApps: the directory that holds the versions, versions in row order") {
    std::vector<AppRow> rows(4);
    rows[0] = {"n", "2.0.0", "/r/n/2.0.0", "nested", {}, {}, {}};
    rows[1] = {"n", "1.0.0", "/r/n/1.0.0", "nested", {}, {}, {}};
    rows[2] = {"s", "0.0.0", "/r/s", "simple", {}, {}, {}};
    rows[3] = {"e", "", {}, {}, {}, {}, ManifestError{"f", "", "broken"}};
    const auto out = bunApps(rows);
    REQUIRE(out.size() == 2);
    CHECK(out[0].path == "/r/n");
    CHECK(out[0].versions == std::vector<std::string>{"2.0.0", "1.0.0"});
    CHECK(out[1].path == "/r/s");
}

TEST_CASE("error bodies: success false, code and message next to error") {
    GoldenView view;
    AdminApi api(view, "");
    const json body = json::parse(get(api, "/_/api/nothing").body);
    checkShape(golden::json("bun_error"), body);
    CHECK(body["success"] == false);
    CHECK(body["code"] == "NOT_FOUND");
    CHECK(body["error"] == "NOT_FOUND");
}

TEST_CASE("Prometheus: the seed's 16 series under its names, all gauges; counters stay as extras") {
    const MetricsView m = golden::json("metrics").get<MetricsView>();
    const std::string page = renderPrometheus(m, {});
    for (const char* name :
         {"active_workers", "avg_response_time_ms", "ephemeral_concurrency", "ephemeral_queue_depth",
          "ephemeral_queue_limit", "evictions", "hit_rate", "hits", "memory_usage_m_b", "misses", "requests_per_second",
          "total_requests", "total_workers_failed", "total_workers_created", "total_workers_retired", "uptime_ms"}) {
        const std::string series = std::string("buntime_") + name;
        CAPTURE(series);
        CHECK(page.find("# TYPE " + series + " gauge\n") != std::string::npos);
        CHECK(page.find("\n" + series + " ") != std::string::npos);
    }
    for (const char* counter : {"evictions", "hits", "misses", "total_requests", "total_workers_created",
                                "total_workers_failed", "total_workers_retired"})
        CHECK(page.find(std::string("# TYPE buntime_") + counter + "_total counter\n") != std::string::npos);
    CHECK(page.find("buntime_total_requests 101\n") != std::string::npos);
    CHECK(page.find("buntime_total_requests_total 101\n") != std::string::npos);
    // The seed's requestsPerSecond (lifetime average) under its own series.
    CHECK(page.find("# TYPE buntime_requests_per_second_lifetime gauge\nbuntime_requests_per_second_lifetime 101\n") !=
          std::string::npos);
}

TEST_CASE("metricsView: requestsPerSecondLifetime is totalRequests over the uptime") {
    buntime::pool::PoolMetrics p;
    p.total_requests = 250;
    p.uptime_ms = 3000;
    CHECK(metricsView(p).requests_per_second_lifetime == doctest::Approx(83.33));
    p.uptime_ms = 0;
    CHECK(metricsView(p).requests_per_second_lifetime == 0);
}
