// SPDX-License-Identifier: MIT
// Gate parsing and evaluation: every metric, violation text, default maxErrors 0, exit code.
#include <doctest/doctest.h>

#include "buntime/harness/gates.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace buntime::harness;
using nlohmann::json;

namespace {

// rps = requests / 1 s; every latency sample = latencyMs.
ScenarioResult result(const std::string& name, std::uint64_t requests, std::uint64_t errors, double latencyMs) {
    ScenarioResult r;
    r.scenario = name;
    r.duration_sec = 1.0;
    r.requests = requests;
    r.errors = errors;
    for (std::uint64_t i = 0; i < requests; ++i) r.latency.record(static_cast<std::uint64_t>(latencyMs * 1e6));
    return r;
}

std::vector<std::string> texts(const std::vector<Violation>& v) {
    std::vector<std::string> out;
    for (const auto& x : v) out.push_back(x.text());
    return out;
}

}  // namespace

TEST_CASE("without a gate file only maxErrors = 0 applies") {
    CHECK(evaluateGates(nullptr, {result("warm-noop", 100, 0, 5000)}).empty());
    const auto v = evaluateGates(nullptr, {result("warm-noop", 100, 3, 1)});
    REQUIRE(v.size() == 1);
    CHECK(v[0].metric == "maxErrors");
    CHECK(v[0].text() == "warm-noop maxErrors: actual=3 expected=0");
    CHECK(exitCodeFor(v) == 1);
    CHECK(exitCodeFor({}) == 0);
}

TEST_CASE("a scenario that completed nothing fails loud") {
    const auto v = evaluateGates(nullptr, {result("slow-50ms", 0, 0, 0)});
    REQUIRE(v.size() == 1);
    CHECK(v[0].metric == "requests");
}

TEST_CASE("each metric is checked and reported as 'scenario metric: actual=... expected=...'") {
    const auto parsed = parseGates(json::parse(R"({
        "scenarios": {
          "warm-noop": {"maxErrors": 2, "minRps": 300, "maxP95Ms": 100, "maxP99Ms": 110, "maxAvgMs": 50},
          "echo-1kb": {"minRps": 10, "maxP99Ms": 250}
        }})"));
    REQUIRE(parsed.error.empty());
    CHECK(parsed.warnings.empty());

    // warm-noop: 200 rps, 120 ms for every request, 3 errors: all five metrics fail.
    const auto v = evaluateGates(&parsed.gates, {result("warm-noop", 200, 3, 120), result("echo-1kb", 50, 0, 1)});
    const auto t = texts(v);
    REQUIRE(t.size() == 5);
    CHECK(t[0] == "warm-noop maxErrors: actual=3 expected=2");
    CHECK(t[1] == "warm-noop minRps: actual=200 expected=300");
    CHECK(v[2].metric == "maxP95Ms");
    CHECK(v[2].actual == doctest::Approx(120).epsilon(0.01));
    CHECK(t[2].find(" expected=100") != std::string::npos);
    CHECK(v[3].metric == "maxP99Ms");
    CHECK(t[3].find(" expected=110") != std::string::npos);
    CHECK(v[4].metric == "maxAvgMs");
    CHECK(v[4].actual == doctest::Approx(120).epsilon(0.001));
    CHECK(v[4].expected == 50);
    CHECK(exitCodeFor(v) == 1);
}

TEST_CASE("results inside every threshold pass, also at the exact limits") {
    const auto parsed = parseGates(json::parse(R"({"warm-noop": {"minRps": 200, "maxAvgMs": 120, "maxErrors": 1}})"));
    REQUIRE(parsed.error.empty());
    CHECK(evaluateGates(&parsed.gates, {result("warm-noop", 200, 1, 120)}).empty());
    // echo-1kb has no entry: only the default maxErrors 0 applies.
    CHECK(evaluateGates(&parsed.gates, {result("echo-1kb", 1, 0, 9999)}).empty());
    CHECK(evaluateGates(&parsed.gates, {result("echo-1kb", 2, 1, 1)}).size() == 1);
}

TEST_CASE("defaults apply to every scenario and scenario keys override them") {
    const auto parsed = parseGates(json::parse(R"({"defaults": {"maxErrors": 5, "maxP99Ms": 10},
                                                  "scenarios": {"slow-50ms": {"maxP99Ms": 100}}})"));
    REQUIRE(parsed.error.empty());
    CHECK(evaluateGates(&parsed.gates, {result("warm-noop", 10, 4, 20)}).size() == 1);  // p99 20 > 10
    CHECK(evaluateGates(&parsed.gates, {result("slow-50ms", 10, 4, 60)}).empty());      // 60 < 100, 4 <= 5
}

TEST_CASE("unknown scenarios and keys warn; wrong types and shapes are errors") {
    auto p = parseGates(json::parse(R"({"scenarios": {"nope": {"minRps": 1}, "warm-noop": {"minRPS": 1}}})"));
    CHECK(p.error.empty());
    CHECK(p.warnings.size() == 2);
    CHECK_FALSE(parseGates(json::parse(R"({"warm-noop": {"minRps": "fast"}})")).error.empty());
    CHECK_FALSE(parseGates(json::parse(R"([1, 2])")).error.empty());
    CHECK_FALSE(parseGates(json::parse(R"({"scenarios": 3})")).error.empty());
}

TEST_CASE("loadGateFile reads the shipped thresholds and reports unreadable files") {
    const auto shipped = loadGateFile(BUNTIME_THRESHOLDS_FILE);
    REQUIRE(shipped.error.empty());
    CHECK(shipped.warnings.empty());
    const auto t = shipped.gates.forScenario("warm-noop");
    CHECK(*t.min_rps == 300);
    CHECK(*t.max_p95_ms == 100);
    CHECK(*t.max_p99_ms == 250);
    CHECK(*shipped.gates.forScenario("ephemeral-noop").max_p99_ms == 1500);
    CHECK(*shipped.gates.forScenario("slow-50ms").min_rps == 40);
    CHECK(*shipped.gates.forScenario("echo-1kb").max_p95_ms == 120);

    CHECK(loadGateFile("/nonexistent/gates.json").error.find("cannot read") != std::string::npos);
    const auto bad = std::filesystem::temp_directory_path() / "buntime-perf-bad-gates.json";
    std::ofstream(bad) << "{not json";
    CHECK(loadGateFile(bad.string()).error.find("not valid JSON") != std::string::npos);
    std::filesystem::remove(bad);
}
