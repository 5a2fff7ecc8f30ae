// SPDX-License-Identifier: MIT
// Human-readable tables and the JSON report (config, results, pool metrics, gate violations).
#pragma once

#include "buntime/harness/config.h"
#include "buntime/harness/gates.h"
#include "buntime/harness/result.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace buntime::harness {

// The pool fields the report keeps from a metrics document (GET /_/api/metrics shape):
// activeWorkers, hitRate, hits, misses, totalWorkersCreated, totalWorkersFailed,
// memoryUsageMB, supervisorRssBytes, workerRssBytes. Missing keys are left out.
nlohmann::json poolSummary(const nlohmann::json& metrics);

nlohmann::json resultJson(const ScenarioResult& r);

// {"config": {...}, "results": [...], "pool": {...}|null, "gate": {"file", "violations": [...]},
//  "passed": bool}
nlohmann::json buildReport(const PerfConfig& config, const std::vector<ScenarioResult>& results,
                           const std::optional<nlohmann::json>& pool, const std::vector<Violation>& violations);

std::string formatScenario(const ScenarioResult& r);                    // one block per scenario
std::string formatSummary(const std::vector<ScenarioResult>& results);  // one row per scenario
std::string formatPool(const nlohmann::json& pool);
std::string formatViolations(const std::vector<Violation>& violations);

}  // namespace buntime::harness
