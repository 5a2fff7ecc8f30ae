// SPDX-License-Identifier: MIT
// Harness configuration: the seed's PERF_* environment variables, scenarios and defaults.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace buntime::harness {

// One load scenario. Immutable; the catalogue is allScenarios().
struct Scenario {
    std::string name;          // warm-noop, echo-1kb, slow-50ms, ephemeral-noop
    std::string method;        // GET / POST
    std::string target;        // path + query, e.g. /noop/ping
    std::string content_type;  // "" = no body
    std::string body;
    unsigned concurrency_cap = 0;  // 0 = PERF_CONCURRENCY as is
};

const std::vector<Scenario>& allScenarios();
const Scenario* findScenario(const std::string& name);
unsigned effectiveConcurrency(const Scenario& s, unsigned concurrency);

enum class Mode { Http, Direct, Target };
const char* modeName(Mode m);

struct TargetUrl {
    std::string host;
    std::uint16_t port = 80;
    std::string text;  // as given, without trailing slash
};
// Accepts http://host[:port][/]; nullopt for anything else (https, paths, garbage).
std::optional<TargetUrl> parseTargetUrl(const std::string& text);

struct PerfConfig {
    Mode mode = Mode::Http;                   // PERF_MODE (http|direct); PERF_TARGET forces Target
    std::optional<TargetUrl> target;          // PERF_TARGET
    std::uint64_t duration_ms = 10000;        // PERF_DURATION_MS
    std::uint64_t warmup_ms = 2000;           // PERF_WARMUP_MS
    unsigned concurrency = 50;                // PERF_CONCURRENCY
    std::size_t pool_size = 100;              // PERF_POOL_SIZE
    std::uint64_t client_timeout_ms = 10000;  // PERF_CLIENT_TIMEOUT_MS
    std::uint16_t port = 0;                   // PERF_PORT (0 = random)
    std::vector<std::string> scenarios;       // PERF_SCENARIOS (CSV; default all; unknown names skipped)
    bool json = false;                        // PERF_JSON=1
    std::string output_file;                  // PERF_OUTPUT_FILE
    std::string gate_file;                    // PERF_GATE_FILE
    bool keep_fixtures = false;               // PERF_KEEP_FIXTURES=1
    std::string fixture_dir;                  // PERF_FIXTURE_DIR (default: ./.perf-fixtures)
    std::string apps_dir;                     // PERF_APPS_DIR (default: build dir's examples/apps)
};

struct ConfigResult {
    PerfConfig config;
    std::vector<std::string> warnings;  // invalid values that were replaced by defaults
    std::string error;                  // non-empty: unusable configuration (unknown scenario, bad target)
};

using EnvLookup = std::function<const char*(const char*)>;  // returns nullptr when unset
ConfigResult parseConfig(const EnvLookup& env);
ConfigResult parseConfigFromEnvironment();

// The compiled-in default for PERF_APPS_DIR (meson's build dir + /examples/apps).
std::string defaultAppsDir();

}  // namespace buntime::harness
