// SPDX-License-Identifier: MIT
// Report JSON shape, pool summary and the human tables.
#include <doctest/doctest.h>

#include "buntime/harness/report.h"
#include "buntime/harness/spawn_summary.h"

using namespace buntime::harness;
using nlohmann::json;

namespace {

ScenarioResult sample() {
    ScenarioResult r;
    r.scenario = "warm-noop";
    r.method = "GET";
    r.target = "/noop/ping";
    r.concurrency = 5;
    r.duration_sec = 2.0;
    r.requests = 1000;
    r.errors = 2;
    r.http_errors = 2;
    r.status_counts = {{200, 998}, {500, 2}};
    for (int i = 1; i <= 1000; ++i) r.latency.record(static_cast<std::uint64_t>(i) * 1000);  // 1 us .. 1 ms
    r.connectionsOpened = 5;
    return r;
}

}  // namespace

TEST_CASE("result JSON carries counts, rps, percentiles in ms and status counts") {
    const json j = resultJson(sample());
    CHECK(j["scenario"] == "warm-noop");
    CHECK(j["method"] == "GET");
    CHECK(j["path"] == "/noop/ping");
    CHECK(j["concurrency"] == 5);
    CHECK(j["requests"] == 1000);
    CHECK(j["rps"].get<double>() == doctest::Approx(500));
    CHECK(j["errors"] == 2);
    CHECK(j["httpErrors"] == 2);
    CHECK(j["statusCounts"]["200"] == 998);
    CHECK(j["statusCounts"]["500"] == 2);
    CHECK(j["latencyMs"]["p50"].get<double>() == doctest::Approx(0.5).epsilon(0.01));
    CHECK(j["latencyMs"]["p99"].get<double>() == doctest::Approx(0.99).epsilon(0.01));
    CHECK(j["latencyMs"]["max"].get<double>() == doctest::Approx(1.0));
    CHECK(j["latencyMs"]["avg"].get<double>() == doctest::Approx(0.5005).epsilon(0.002));
    CHECK_FALSE(j.contains("ipc"));  // no runtime counters (PERF_TARGET mode)
}

TEST_CASE("IPC breakdown appears in JSON and table when present") {
    ScenarioResult r = sample();
    r.ipc = IpcBreakdown{};
    r.ipc->ring_ns_in_per_request = 1500;
    r.ipc->wakeups = 250;
    r.ipc->spin_hits = 750;
    r.ipc->bytes_to_worker = 100000;
    const json j = resultJson(r);
    REQUIRE(j.contains("ipc"));
    CHECK(j["ipc"]["ringNsPerRequestIn"] == 1500.0);
    CHECK(j["ipc"]["wakeupsPerRequest"].get<double>() == doctest::Approx(0.25));
    CHECK(j["ipc"]["spinHitsPerRequest"].get<double>() == doctest::Approx(0.75));
    CHECK(j["ipc"]["bytesToWorkerPerRequest"].get<double>() == doctest::Approx(100));
    const std::string table = formatScenario(r);
    CHECK(table.find("ring in") != std::string::npos);
    CHECK(table.find("1500 ns/req") != std::string::npos);
    CHECK(table.find("0.250/req") != std::string::npos);
}

TEST_CASE("full report: config, results, pool, gate violations, passed") {
    PerfConfig c;
    c.scenarios = {"warm-noop"};
    c.gate_file = "thresholds/thresholds.json";
    buntime::admin::MetricsView metrics;
    metrics.active_workers = 3;
    metrics.hits = 90;
    metrics.misses = 10;
    metrics.hit_rate = 90.0;
    metrics.total_workers_created = 10;
    metrics.memory_usage_mb = 1.5;
    metrics.uptime_ms = 5;
    metrics.supervisor_rss_bytes = 1000;
    metrics.worker_rss_bytes = 2000;
    const json pool = poolSummary(metrics);
    CHECK(pool == json{{"activeWorkers", 3},
                       {"hitRate", 90.0},
                       {"hits", 90},
                       {"memoryUsageMB", 1.5},
                       {"misses", 10},
                       {"supervisorRssBytes", 1000},
                       {"totalWorkersCreated", 10},
                       {"totalWorkersFailed", 0},
                       {"workerRssBytes", 2000}});
    CHECK_FALSE(pool.contains("uptimeMs"));
    const std::vector<Violation> v = {{"warm-noop", "maxErrors", 2, 0}};
    const json rep = buildReport(c, {sample()}, metrics, v);
    CHECK(rep["config"]["mode"] == "http");
    CHECK(rep["config"]["durationMs"] == 10000);
    CHECK(rep["config"]["warmupMs"] == 2000);
    CHECK(rep["config"]["concurrency"] == 50);
    CHECK(rep["config"]["poolSize"] == 100);
    CHECK(rep["config"]["clientTimeoutMs"] == 10000);
    CHECK(rep["config"]["port"] == "random");
    CHECK(rep["config"]["scenarios"] == json::array({"warm-noop"}));
    CHECK_FALSE(rep["config"].contains("target"));
    REQUIRE(rep["results"].is_array());
    CHECK(rep["results"].size() == 1);
    CHECK(rep["pool"] == pool);
    CHECK(rep["gate"]["file"] == "thresholds/thresholds.json");
    REQUIRE(rep["gate"]["violations"].size() == 1);
    CHECK(rep["gate"]["violations"][0]["message"] == "warm-noop maxErrors: actual=2 expected=0");
    CHECK(rep["passed"] == false);

    const json noPool = buildReport(c, {}, std::nullopt, {});
    CHECK(noPool["pool"].is_null());
    CHECK(noPool["passed"] == true);
}

TEST_CASE("human tables name every column and the pool lines") {
    const std::string summary = formatSummary({sample()});
    for (const char* col : {"requests", "rps", "errors", "p50", "p95", "p99", "avg", "max", "status", "200=998 500=2"})
        CHECK(summary.find(col) != std::string::npos);
    buntime::admin::MetricsView metrics;
    metrics.active_workers = 3;
    metrics.hits = 90;
    metrics.misses = 10;
    metrics.total_workers_created = 10;
    metrics.total_workers_failed = 1;
    metrics.supervisor_rss_bytes = 2097152;
    metrics.worker_rss_bytes = 4096;
    metrics.memory_usage_mb = 2.0;
    const std::string pool = formatPool(metrics);
    CHECK(pool.find("active workers") != std::string::npos);
    CHECK(pool.find("90.0%") != std::string::npos);
    CHECK(pool.find("worker creations") != std::string::npos);
    CHECK(pool.find("worker failures") != std::string::npos);
    CHECK(pool.find("2.0 MiB") != std::string::npos);
    CHECK(pool.find("4.0 KiB") != std::string::npos);
    CHECK(pool.find("2.0 MB") != std::string::npos);
    metrics.hits = metrics.misses = 0;
    metrics.hit_rate = 12.5;
    CHECK(formatPool(metrics).find("12.5") != std::string::npos);  // no requests: the reported rate
    CHECK(formatViolations({}).find("passed") != std::string::npos);
    CHECK(formatViolations({{"echo-1kb", "minRps", 1, 2}}).find("echo-1kb minRps: actual=1 expected=2") !=
          std::string::npos);
}

namespace {

buntime::admin::SpawnSeriesView series(std::string path, std::string kind,
                                       std::vector<std::pair<double, std::uint64_t>> cumulative, std::uint64_t count) {
    buntime::admin::SpawnSeriesView s;
    s.path = std::move(path);
    s.kind = std::move(kind);
    s.count = count;
    for (const auto& [le, n] : cumulative) s.buckets.push_back({le, n});
    return s;
}

}  // namespace

TEST_CASE("bucketQuantile interpolates within the bucket that holds the rank, as histogram_quantile does") {
    const std::map<double, std::uint64_t> b = {{0.001, 0}, {0.002, 50}, {0.004, 90}, {0.01, 100}};
    CHECK(bucketQuantile(b, 100, 0.5) == doctest::Approx(0.002));    // the 50th falls at the bound
    CHECK(bucketQuantile(b, 100, 0.25) == doctest::Approx(0.0015));  // halfway through 1..2 ms
    CHECK(bucketQuantile(b, 100, 0.99) == doctest::Approx(0.0094));  // 9 of 10 through 4..10 ms
    CHECK(bucketQuantile(b, 110, 0.99) == doctest::Approx(0.01));    // rank in +Inf: the last bound
    CHECK(bucketQuantile(b, 0, 0.5) == 0);
    CHECK(bucketQuantile({{0.001, 4}}, 4, 0.5) == doctest::Approx(0.0005));  // the first bucket starts at 0
}

TEST_CASE("spawnToReady: the phase's new spawns per path, kinds summed; paths without new spawns left out") {
    const std::vector<buntime::admin::SpawnSeriesView> before = {
        series("exec", "so", {{0.005, 10}, {0.01, 10}, {0.02, 10}}, 10),
        series("fork", "so", {{0.005, 3}, {0.01, 3}, {0.02, 3}}, 3),
    };
    const std::vector<buntime::admin::SpawnSeriesView> after = {
        series("exec", "js", {{0.005, 0}, {0.01, 0}, {0.02, 20}}, 20),    // new kind: 20 in 10..20 ms
        series("exec", "so", {{0.005, 10}, {0.01, 90}, {0.02, 90}}, 90),  // 80 new in 5..10 ms
        series("fork", "so", {{0.005, 3}, {0.01, 3}, {0.02, 3}}, 3),      // nothing new
    };
    const auto s = spawnToReady(before, after);
    REQUIRE(s.size() == 1);
    CHECK(s[0].path == "exec");
    CHECK(s[0].spawns == 100);
    CHECK(s[0].p50_ms == doctest::Approx(5.0 + 5.0 * 50.0 / 80.0));  // rank 50 of the 80 in 5..10 ms
    CHECK(s[0].p99_ms == doctest::Approx(10.0 + 10.0 * 19.0 / 20.0));
    CHECK(spawnToReady(after, after).empty());
    CHECK(spawnToReady(after, before).empty());  // counts went down (a restarted supervisor): no delta
}

TEST_CASE("spawn-to-ready appears in the scenario table and the result JSON only when workers spawned") {
    ScenarioResult r = sample();
    CHECK_FALSE(resultJson(r).contains("spawnToReady"));
    CHECK(formatScenario(r).find("spawn") == std::string::npos);
    r.spawn = {{"exec", 1500, 12.3, 20.25}, {"fork", 40, 1.5, 2.0}};
    const json j = resultJson(r);
    REQUIRE(j.contains("spawnToReady"));
    CHECK(j["spawnToReady"]["exec"]["spawns"] == 1500);
    CHECK(j["spawnToReady"]["exec"]["p50Ms"].get<double>() == doctest::Approx(12.3));
    CHECK(j["spawnToReady"]["exec"]["p99Ms"].get<double>() == doctest::Approx(20.25));
    CHECK(j["spawnToReady"]["fork"]["spawns"] == 40);
    const std::string table = formatScenario(r);
    CHECK(table.find("spawn exec p50 12.300 ms  p99 20.250 ms  (1500 spawns, spawn-to-ready)") != std::string::npos);
    CHECK(table.find("spawn fork p50 1.500 ms  p99 2.000 ms  (40 spawns") != std::string::npos);
}
