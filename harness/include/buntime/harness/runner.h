// SPDX-License-Identifier: MIT
// The harness program: fixtures, target, scenarios, report, gates, exit code.
#pragma once

#include "buntime/harness/config.h"
#include "buntime/harness/target.h"

#include <buntime/base/expected.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace buntime::harness {

// Starts what serves the fixture apps in `fixtures_dir` for PERF_MODE http or direct and
// returns the target to load; the error says why it could not start. Production:
// startEmbeddedTarget (the supervisor in-process).
using StartTarget = std::function<base::Expected<std::unique_ptr<Target>, std::string>(
    const PerfConfig& config, const std::string& fixtures_dir)>;

// Runs every configured scenario and reports. PERF_TARGET mode loads config.target over
// HTTP; http and direct modes write the fixture apps to ./.perf-fixtures and load the target
// `start` returns (destroyed after the report, then the fixtures are removed unless
// config.keep_fixtures). The human report goes to `out`, or to `err` when config.json is set
// (then `out` receives only the JSON report). Progress and warnings go to `err`. Returns the
// process exit code: 0 pass, 1 any error or violation (including setup failures).
int runPerf(const PerfConfig& config, std::ostream& out, std::ostream& err,
            const StartTarget& start = startEmbeddedTarget);

// `buntime-perf --fixtures-only DIR`: writes the fixture apps into DIR. Exit code.
int writeFixturesOnly(const std::string& dir, const std::string& apps_dir, std::ostream& err);

}  // namespace buntime::harness
