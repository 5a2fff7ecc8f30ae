// SPDX-License-Identifier: MIT
// Regression gates: per-scenario thresholds (maxErrors, minRps, maxP95Ms, maxP99Ms, maxAvgMs).
#pragma once

#include "buntime/harness/result.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace buntime::harness {

struct GateThresholds {
    std::optional<double> max_errors;  // absent = 0 (errors always fail the run)
    std::optional<double> min_rps;
    std::optional<double> max_p95_ms;
    std::optional<double> max_p99_ms;
    std::optional<double> max_avg_ms;
};

// Gate file shape (both accepted):
//   {"defaults": {...}, "scenarios": {"warm-noop": {"minRps": 300, "maxP95Ms": 100}, ...}}
//   {"warm-noop": {"minRps": 300, ...}, ...}                    (flat, seed-style)
// A scenario's own keys override "defaults".
struct GateSet {
    GateThresholds defaults;
    std::map<std::string, GateThresholds> scenarios;
    GateThresholds forScenario(const std::string& name) const;
};

struct GateParse {
    GateSet gates;
    std::vector<std::string> warnings;  // unknown scenario or key
    std::string error;                  // non-empty: unusable file
};

GateParse parseGates(const nlohmann::json& doc);
GateParse loadGateFile(const std::string& path);

struct Violation {
    std::string scenario;
    std::string metric;  // maxErrors, minRps, maxP95Ms, maxP99Ms, maxAvgMs; "requests" when none completed
    double actual = 0;
    double expected = 0;
    std::string text() const;  // "warm-noop minRps: actual=250.00 expected=300"
};

// Applies `gates` (may be null: only maxErrors = 0 applies) to every result.
std::vector<Violation> evaluateGates(const GateSet* gates, const std::vector<ScenarioResult>& results);

// 1 when any violation exists (errors are a maxErrors violation), else 0.
int exitCodeFor(const std::vector<Violation>& violations);

}  // namespace buntime::harness
