// SPDX-License-Identifier: MIT
// The admin schema: the golden answers parse into the views and come back byte for byte,
// from_json rejects what does not fit, and the optional members map to null or absent keys.
#include <doctest/doctest.h>

#include "buntime/admin/schema.h"
#include "golden.h"

using namespace buntime::admin;
using nlohmann::json;
namespace golden = buntime::test::golden;

namespace {

// to_json(from_json(doc)) as the supervisor would send it.
template <typename View>
std::string roundTrip(const json& doc) {
    auto view = parse<View>(doc);
    REQUIRE_MESSAGE(view.has_value(), (view.has_value() ? "" : view.error()));
    return dumpJson(json(view.value()));
}

// The error parse<View> gives for `doc`, "" when it parses.
template <typename View>
std::string misfit(const json& doc) {
    auto view = parse<View>(doc);
    return view ? std::string() : view.error();
}

}  // namespace

TEST_CASE("every golden answer parses and round-trips byte for byte (keys, values, number types)") {
    CHECK(roundTrip<HealthView>(golden::json("health")) == golden::body("health"));
    CHECK(roundTrip<MetricsView>(golden::json("metrics")) == golden::body("metrics"));
    CHECK(roundTrip<WorkersReply>(golden::json("workers")) == golden::body("workers"));
    CHECK(roundTrip<AppsReply>(golden::json("apps")) == golden::body("apps"));
}

TEST_CASE("the golden files hold what the views say: null process fields, absent app fields") {
    const auto workers = golden::json("workers").get<WorkersReply>().workers;
    REQUIRE(workers.size() == 3);
    CHECK(workers[0].pid == 456);
    REQUIRE(workers[0].ring);
    CHECK(workers[0].ring->to_worker.high_water == 2048);
    CHECK(workers[1].ring->to_worker.used == 131072);
    CHECK_FALSE(workers[2].pid);
    CHECK_FALSE(workers[2].rss_bytes);
    CHECK_FALSE(workers[2].ring);

    const auto apps = golden::json("apps").get<AppsReply>().apps;
    REQUIRE(apps.size() == 3);
    CHECK_FALSE(apps[0].error);
    REQUIRE(apps[0].config);
    CHECK((*apps[0].config)["ttlMs"] == 300000);
    CHECK(apps[0].entrypoint_kind == "so");
    REQUIRE(apps[1].error);
    CHECK(apps[1].error->key == "timeout");
    CHECK(apps[1].dir == "/x/bad@2.0.0");
    CHECK_FALSE(apps[1].config);
    CHECK_FALSE(apps[1].entrypoint_kind);
    REQUIRE(apps[2].error);  // an app-level error: no version, dir or layout
    CHECK(apps[2].version.empty());
    CHECK_FALSE(apps[2].dir);
    CHECK_FALSE(apps[2].layout);
}

TEST_CASE("every metric has a key, and the key order is the JSON order") {
    MetricsView m;
    std::vector<std::string> keys;
    forEachMetric(m, [&](const char* key, const auto&, MetricKind) { keys.emplace_back(key); });
    CHECK(keys.size() == 27);  // + requestsPerSecondLifetime
    CHECK(std::is_sorted(keys.begin(), keys.end()));
    std::vector<std::string> golden_keys;
    const auto metrics = golden::json("metrics");
    for (const auto& [key, value] : metrics.items()) golden_keys.push_back(key);
    // The spawn histogram is the one key outside the table of numbers and texts.
    REQUIRE_FALSE(golden_keys.empty());
    CHECK(golden_keys.back() == "workerSpawnSeconds");
    golden_keys.pop_back();
    CHECK(keys == golden_keys);
}

TEST_CASE("the spawn histogram reads back series, buckets and their types") {
    const auto m = golden::json("metrics").get<MetricsView>();
    REQUIRE(m.worker_spawn_seconds.size() == 1);
    const auto& s = m.worker_spawn_seconds[0];
    CHECK(s.path == "exec");
    CHECK(s.kind == "so");
    CHECK(s.count == 2);
    CHECK(s.sum == doctest::Approx(0.0159));
    REQUIRE(s.buckets.size() == 22);
    CHECK(s.buckets.front().le == doctest::Approx(0.0005));
    CHECK(s.buckets.back().le == doctest::Approx(10.0));
    CHECK(s.buckets.back().count == 2);

    json metrics = golden::json("metrics");
    metrics["workerSpawnSeconds"] = json::object();
    CHECK(misfit<MetricsView>(metrics).find("'workerSpawnSeconds'") != std::string::npos);
    metrics = golden::json("metrics");
    metrics["workerSpawnSeconds"][0]["buckets"][0]["count"] = -1;
    CHECK(misfit<MetricsView>(metrics).find("non-negative") != std::string::npos);
    metrics = golden::json("metrics");
    metrics["workerSpawnSeconds"][0].erase("kind");
    CHECK(misfit<MetricsView>(metrics).find("'kind'") != std::string::npos);
}

TEST_CASE("from_json names the key that is missing or of the wrong type") {
    json health = golden::json("health");
    health.erase("pid");
    CHECK(misfit<HealthView>(health).find("'pid'") != std::string::npos);

    json metrics = golden::json("metrics");
    metrics["hits"] = "many";
    CHECK(misfit<MetricsView>(metrics).find("'hits'") != std::string::npos);
    metrics["hits"] = -1;  // unsigned
    CHECK(misfit<MetricsView>(metrics).find("non-negative") != std::string::npos);
    metrics["hits"] = 1.5;  // not an integer
    CHECK_FALSE(misfit<MetricsView>(metrics).empty());
    metrics["hits"] = 7;
    metrics["hitRate"] = 50;  // an integer is a fine double
    CHECK(misfit<MetricsView>(metrics).empty());
    CHECK_FALSE(misfit<MetricsView>(json::array()).empty());

    json workers = golden::json("workers");
    workers["workers"][0]["ring"]["toWorker"].erase("spinHits");
    CHECK(misfit<WorkersReply>(workers).find("'spinHits'") != std::string::npos);
    workers = golden::json("workers");
    workers["workers"][2]["pid"] = "none";
    CHECK(misfit<WorkersReply>(workers).find("'pid'") != std::string::npos);

    json apps = golden::json("apps");
    apps["apps"][1]["error"] = "just text";
    CHECK_FALSE(misfit<AppsReply>(apps).empty());
    apps = golden::json("apps");
    apps["apps"][0]["config"] = 3;
    CHECK_FALSE(misfit<AppsReply>(apps).empty());
}

TEST_CASE("extra keys are ignored (a newer supervisor)") {
    json health = golden::json("health");
    health["newField"] = true;
    CHECK(misfit<HealthView>(health).empty());
}

TEST_CASE("an app-level error row has no dir, layout, config or kind") {
    AppRow row;
    row.name = "dup";
    row.error = ManifestError{"", "", "dup@1.0.0 found in two directories"};
    const json j = row;
    CHECK(j == json{{"name", "dup"},
                    {"version", ""},
                    {"error", {{"file", ""}, {"key", ""}, {"message", "dup@1.0.0 found in two directories"}}}});
    CHECK(j.get<AppRow>().error->message == "dup@1.0.0 found in two directories");
    CHECK_FALSE(j.get<AppRow>().dir);
}

TEST_CASE("small replies and the lenient error body") {
    CHECK(dumpJson(LiveView{}) == R"({"live":true,"ok":true,"status":"live","version":""})");
    CHECK(dumpJson(ReadyView{false, false, "", ""}) == R"({"ok":false,"ready":false,"status":"","version":""})");
    CHECK(dumpJson(ReloadedReply{}) == R"({"reloaded":true})");
    CHECK(dumpJson(RetiredReply{"a@1"}) == R"({"retired":"a@1"})");
    CHECK(dumpJson(ErrorReply{"NOT_FOUND", "no"}) ==
          R"({"code":"NOT_FOUND","error":"NOT_FOUND","message":"no","success":false})");
    CHECK(json::parse(R"({"success":false,"code":"APP_NOT_FOUND","message":"m"})").get<ErrorReply>().error ==
          "APP_NOT_FOUND");  // a Bun-based runtime's error body
    CHECK(json::parse(R"({"message":"only"})").get<ErrorReply>().message == "only");
    CHECK(json::parse(R"({"error":5})").get<ErrorReply>().error.empty());
    CHECK(json::parse("[1]").get<ErrorReply>().message.empty());
    CHECK_FALSE(parse<ReadyView>(json::parse(R"({"ready":"yes"})")));
}

TEST_CASE("dumpJson replaces invalid UTF-8 instead of throwing") {
    const std::string body =
        dumpJson(RetiredReply{"bad\xff"
                              "key"});
    CHECK(body == "{\"retired\":\"bad\xEF\xBF\xBDkey\"}");
}
