// SPDX-License-Identifier: MIT
// The perf report read as the seed harness's tools read it: its field names, types and lists.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "buntime/harness/report.h"

using namespace buntime::harness;
using nlohmann::json;

namespace {

ScenarioResult result(const std::string& name, std::uint64_t ok, std::uint64_t timeouts, std::uint64_t refused) {
    ScenarioResult r;
    r.scenario = name;
    r.method = "GET";
    r.target = "/noop/ping";
    r.concurrency = 5;
    r.duration_sec = 1.0;
    r.status_counts = {{200, ok}};
    r.timeouts = timeouts;
    r.connection_errors = refused;
    r.errors = timeouts + refused;
    r.requests = ok + timeouts + refused;
    for (std::uint64_t i = 1; i <= r.requests; ++i) r.latency.record(i * 1'000'000);  // 1 ms .. n ms
    return r;
}

// What a CI step does with the file: parse the text (not our json object).
json reparse(const json& report) { return json::parse(report.dump(2)); }

}  // namespace

TEST_CASE("the report has the seed's top-level keys; gateViolations is the real list") {
    PerfConfig c;
    c.scenarios = {"warm-noop", "echo-1kb"};
    c.output_file = "perf-results.json";
    buntime::admin::MetricsView m;
    m.active_workers = 2;
    m.requests_per_second = 12.5;
    m.total_workers_retired = 4;
    const std::vector<Violation> three = {
        {"warm-noop", "maxErrors", 3, 0}, {"warm-noop", "minRps", 10, 300}, {"echo-1kb", "maxP95Ms", 80, 50}};
    const json rep = reparse(buildReport(c, {result("warm-noop", 7, 2, 1), result("echo-1kb", 10, 0, 0)}, m, three));

    // jq -e '.gateViolations|length==0' must be false with three violations.
    REQUIRE(rep["gateViolations"].is_array());
    CHECK(rep["gateViolations"].size() == 3);
    CHECK(rep["gateViolations"][1] ==
          json{{"scenario", "warm-noop"}, {"metric", "minRps"}, {"actual", 10.0}, {"expected", 300.0}});
    for (const auto& v : rep["gateViolations"]) {
        CHECK(v["scenario"].is_string());
        CHECK(v["metric"].is_string());
        CHECK(v["actual"].is_number());
        CHECK(v["expected"].is_number());
    }

    // poolMetrics: the seed pool's 16 keys, all numbers.
    const std::set<std::string> pool_keys = {"activeWorkers",
                                             "avgResponseTimeMs",
                                             "ephemeralConcurrency",
                                             "ephemeralQueueDepth",
                                             "ephemeralQueueLimit",
                                             "evictions",
                                             "hitRate",
                                             "hits",
                                             "memoryUsageMB",
                                             "misses",
                                             "requestsPerSecond",
                                             "totalRequests",
                                             "totalWorkersFailed",
                                             "totalWorkersCreated",
                                             "totalWorkersRetired",
                                             "uptimeMs"};
    REQUIRE(rep["poolMetrics"].is_object());
    std::set<std::string> got;
    for (const auto& [k, v] : rep["poolMetrics"].items()) {
        got.insert(k);
        CHECK(v.is_number());
    }
    CHECK(got == pool_keys);
    CHECK(rep["poolMetrics"]["requestsPerSecond"] == 12.5);
    CHECK(rep["poolMetrics"]["totalWorkersRetired"] == 4);

    // config: the seed's keys next to the native ones.
    CHECK(rep["config"]["durationMs"] == 10000);
    CHECK(rep["config"]["fixtureDir"] == ".perf-fixtures");
    CHECK(rep["config"]["keepFixtures"] == false);
    CHECK(rep["config"]["outputFile"] == "perf-results.json");
    CHECK(rep["config"]["scenarioFilter"] == json::array({"echo-1kb", "warm-noop"}));

    // results: the seed's per-scenario keys.
    REQUIRE(rep["results"].size() == 2);
    const json& r = rep["results"][0];
    for (const char* key : {"requests", "rps", "errors", "p50Ms", "p95Ms", "p99Ms", "avgMs", "maxMs", "minMs",
                            "concurrency", "durationMs"})
        CHECK_MESSAGE(r[key].is_number(), key);
    CHECK(r["name"] == "warm-noop");
    CHECK(r["requests"] == 10);
    CHECK(r["errors"] == 3);
    CHECK(r["minMs"] == 1.0);
    CHECK(r["maxMs"] == 10.0);
    CHECK(r["p50Ms"] == r["latencyMs"]["p50"]);  // the nested native field stays, same number
    CHECK(r["statusCounts"] == json{{"200", 7}, {"error", 3}});
    CHECK_FALSE(rep["results"][1]["statusCounts"].contains("error"));  // only when some happened
    // Native extras are still there.
    CHECK(rep["gate"]["violations"].size() == 3);
    CHECK(rep["passed"] == false);
}

TEST_CASE("no pool metrics and no violations: an empty list and null, never a missing key") {
    const json rep = reparse(buildReport(PerfConfig{}, {}, std::nullopt, {}));
    REQUIRE(rep.contains("gateViolations"));
    CHECK(rep["gateViolations"] == json::array());
    CHECK(rep["poolMetrics"].is_null());
    CHECK(rep["results"] == json::array());
}
