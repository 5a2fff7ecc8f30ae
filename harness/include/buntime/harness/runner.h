// SPDX-License-Identifier: MIT
// The harness program: fixtures, runtime or target, scenarios, report, gates, exit code.
#pragma once

#include "buntime/harness/config.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <ostream>
#include <string>

namespace buntime::harness {

// True when built against the supervisor (PERF_MODE http/direct available); otherwise only
// PERF_TARGET mode works.
bool runtimeAvailable();

// Runs every configured scenario and reports. The human report goes to `out`, or to `err`
// when config.json is set (then `out` receives only the JSON report). Progress and
// warnings go to `err`. Returns the process exit code: 0 pass, 1 any error or violation
// (including setup failures).
int runPerf(const PerfConfig& config, std::ostream& out, std::ostream& err);

// GET http://host:port/_/api/metrics; nullopt when the target does not answer with JSON.
std::optional<nlohmann::json> fetchTargetMetrics(const TargetUrl& target);

// `buntime-perf --fixtures-only DIR`: writes the fixture apps into DIR. Exit code.
int writeFixturesOnly(const std::string& dir, const std::string& apps_dir, std::ostream& err);

}  // namespace buntime::harness
