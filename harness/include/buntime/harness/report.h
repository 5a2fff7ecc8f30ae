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

nlohmann::json resultJson(const ScenarioResult& r);

// {"config": {...}, "results": [...], "pool": poolSummary(pool)|null,
//  "gate": {"file", "violations": [...]}, "passed": bool}
nlohmann::json buildReport(const PerfConfig& config, const std::vector<ScenarioResult>& results,
                           const std::optional<admin::MetricsView>& pool, const std::vector<Violation>& violations);

std::string formatScenario(const ScenarioResult& r);                    // one block per scenario
std::string formatSummary(const std::vector<ScenarioResult>& results);  // one row per scenario
std::string formatPool(const admin::MetricsView& pool);
std::string formatViolations(const std::vector<Violation>& violations);

}  // namespace buntime::harness
