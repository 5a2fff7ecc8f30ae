// SPDX-License-Identifier: MIT
// Human-readable tables and the JSON report (config, results, pool metrics, gate violations).
#pragma once

#include "buntime/harness/config.h"
#include "buntime/harness/gates.h"
#include "buntime/harness/result.h"

#include <buntime/admin/schema.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace buntime::harness {

// The report's "pool" object: the supervisor's metrics fields activeWorkers, hitRate, hits,
// misses, totalWorkersCreated, totalWorkersFailed, memoryUsageMB, supervisorRssBytes,
// workerRssBytes, under their /_/api/metrics keys.
nlohmann::json poolSummary(const admin::MetricsView& metrics);

// The seed's poolMetrics object: exactly the 16 keys of its pool's getMetrics().
nlohmann::json poolMetricsJson(const admin::MetricsView& metrics);

// The seed's result keys (name, requests, rps, errors, p50Ms, p95Ms, p99Ms, avgMs, maxMs, minMs,
// statusCounts with "error" for transport failures, concurrency, durationMs) and the native
// extras (scenario, method, path, timeouts, connectionErrors, httpErrors, latencyMs, ipc).
nlohmann::json resultJson(const ScenarioResult& r);

// The seed's top level {"config", "gateViolations": [{scenario, metric, actual, expected}],
// "poolMetrics": poolMetricsJson(pool)|null, "results"}, plus the native "pool":
// poolSummary(pool)|null, "gate": {"file", "violations": [...]} and "passed": bool.
nlohmann::json buildReport(const PerfConfig& config, const std::vector<ScenarioResult>& results,
                           const std::optional<admin::MetricsView>& pool, const std::vector<Violation>& violations);

std::string formatScenario(const ScenarioResult& r);                    // one block per scenario
std::string formatSummary(const std::vector<ScenarioResult>& results);  // one row per scenario
std::string formatPool(const admin::MetricsView& pool);
std::string formatViolations(const std::vector<Violation>& violations);

}  // namespace buntime::harness
