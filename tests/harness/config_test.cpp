// SPDX-License-Identifier: MIT
// PERF_* parsing: seed defaults, invalid values warned and defaulted, scenario CSV, PERF_TARGET.
#include <doctest/doctest.h>

#include "buntime/harness/config.h"

#include <map>
#include <string>

using namespace buntime::harness;

namespace {

ConfigResult parseWith(const std::map<std::string, std::string>& vars) {
    return parseConfig([&](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    });
}

bool warned(const ConfigResult& r, const std::string& text) {
    for (const auto& w : r.warnings)
        if (w.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("defaults match the seed") {
    const auto r = parseWith({});
    CHECK(r.error.empty());
    CHECK(r.warnings.empty());
    const PerfConfig& c = r.config;
    CHECK(c.mode == Mode::Http);
    CHECK(c.duration_ms == 10000);
    CHECK(c.warmup_ms == 2000);
    CHECK(c.concurrency == 50);
    CHECK(c.pool_size == 100);
    CHECK(c.client_timeout_ms == 10000);
    CHECK(c.port == 0);
    CHECK(c.scenarios == std::vector<std::string>{"warm-noop", "echo-1kb", "slow-50ms", "ephemeral-noop"});
    CHECK_FALSE(c.json);
    CHECK_FALSE(c.keep_fixtures);
    CHECK(c.output_file.empty());
    CHECK(c.gate_file.empty());
    CHECK_FALSE(c.target.has_value());
    CHECK(c.apps_dir == defaultAppsDir());
}

TEST_CASE("valid values are taken") {
    const auto r = parseWith({{"PERF_MODE", "direct"},
                              {"PERF_DURATION_MS", "300"},
                              {"PERF_WARMUP_MS", "0"},
                              {"PERF_CONCURRENCY", "5"},
                              {"PERF_POOL_SIZE", "10"},
                              {"PERF_CLIENT_TIMEOUT_MS", "250"},
                              {"PERF_PORT", "18080"},
                              {"PERF_JSON", "1"},
                              {"PERF_OUTPUT_FILE", "out.json"},
                              {"PERF_GATE_FILE", "g.json"},
                              {"PERF_KEEP_FIXTURES", "1"},
                              {"PERF_APPS_DIR", "/x/apps"}});
    REQUIRE(r.error.empty());
    CHECK(r.warnings.empty());
    const PerfConfig& c = r.config;
    CHECK(c.mode == Mode::Direct);
    CHECK(c.duration_ms == 300);
    CHECK(c.warmup_ms == 0);
    CHECK(c.concurrency == 5);
    CHECK(c.pool_size == 10);
    CHECK(c.client_timeout_ms == 250);
    CHECK(c.port == 18080);
    CHECK(c.json);
    CHECK(c.keep_fixtures);
    CHECK(c.output_file == "out.json");
    CHECK(c.gate_file == "g.json");
    CHECK(c.apps_dir == "/x/apps");
}

TEST_CASE("invalid values are warned about (naming var and value) and replaced by the default") {
    const auto r = parseWith({{"PERF_MODE", "turbo"},
                              {"PERF_DURATION_MS", "abc"},
                              {"PERF_WARMUP_MS", "-5"},
                              {"PERF_CONCURRENCY", "0"},
                              {"PERF_POOL_SIZE", "1.5"},
                              {"PERF_CLIENT_TIMEOUT_MS", "10s"},
                              {"PERF_PORT", "70000"}});
    CHECK(r.error.empty());
    CHECK(r.warnings.size() == 7);
    CHECK(warned(r, "PERF_MODE=\"turbo\""));
    CHECK(warned(r, "PERF_DURATION_MS=\"abc\"; using default 10000"));
    CHECK(warned(r, "PERF_WARMUP_MS=\"-5\"; using default 2000"));
    CHECK(warned(r, "PERF_CONCURRENCY=\"0\"; using default 50"));
    CHECK(warned(r, "PERF_POOL_SIZE=\"1.5\"; using default 100"));
    CHECK(warned(r, "PERF_CLIENT_TIMEOUT_MS=\"10s\"; using default 10000"));
    CHECK(warned(r, "PERF_PORT=\"70000\"; using default 0"));
    const PerfConfig& c = r.config;
    CHECK(c.mode == Mode::Http);
    CHECK(c.duration_ms == 10000);
    CHECK(c.warmup_ms == 2000);
    CHECK(c.concurrency == 50);
    CHECK(c.pool_size == 100);
    CHECK(c.client_timeout_ms == 10000);
    CHECK(c.port == 0);
}

TEST_CASE("PERF_PORT=random and empty values keep defaults silently") {
    const auto r = parseWith({{"PERF_PORT", "random"}, {"PERF_DURATION_MS", ""}});
    CHECK(r.warnings.empty());
    CHECK(r.config.port == 0);
    CHECK(r.config.duration_ms == 10000);
}

TEST_CASE("PERF_SCENARIOS is a CSV in the given order, deduplicated, spaces ignored") {
    const auto r = parseWith({{"PERF_SCENARIOS", " echo-1kb, warm-noop ,echo-1kb,"}});
    REQUIRE(r.error.empty());
    CHECK(r.config.scenarios == std::vector<std::string>{"echo-1kb", "warm-noop"});
    CHECK(parseWith({{"PERF_SCENARIOS", "all"}}).config.scenarios.size() == 4);
}

TEST_CASE("an unknown scenario is skipped with a warning, as the seed harness does") {
    const auto r = parseWith({{"PERF_SCENARIOS", "warm-noop,cold-brew"}});
    REQUIRE(r.error.empty());
    CHECK(r.config.scenarios == std::vector<std::string>{"warm-noop"});
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find("unknown scenario \"cold-brew\"") != std::string::npos);
    CHECK(r.warnings[0].find("warm-noop, echo-1kb, slow-50ms, ephemeral-noop") != std::string::npos);
    // Nothing known left: no scenarios selected is an error (the seed exits 1 too).
    CHECK(parseWith({{"PERF_SCENARIOS", "cold-brew"}}).error.find("no scenarios selected") != std::string::npos);
    CHECK_FALSE(parseWith({{"PERF_SCENARIOS", ",,"}}).error.empty());
}

TEST_CASE("PERF_FIXTURE_DIR sets the fixture directory") {
    CHECK(parseWith({}).config.fixture_dir.empty());
    CHECK(parseWith({{"PERF_FIXTURE_DIR", " /tmp/fx "}}).config.fixture_dir == "/tmp/fx");
}

TEST_CASE("scenario catalogue: requests and concurrency caps") {
    const Scenario* echo = findScenario("echo-1kb");
    REQUIRE(echo != nullptr);
    CHECK(echo->method == "POST");
    CHECK(echo->target == "/echo/body");
    CHECK(echo->content_type == "text/plain");
    CHECK(echo->body == std::string(1024, 'x'));
    CHECK(findScenario("warm-noop")->target == "/noop/ping");
    CHECK(findScenario("slow-50ms")->target == "/slow/wait?ms=50");
    CHECK(findScenario("ephemeral-noop")->target == "/ephemeral/ping");
    CHECK(effectiveConcurrency(*findScenario("slow-50ms"), 500) == 100);
    CHECK(effectiveConcurrency(*findScenario("slow-50ms"), 50) == 50);
    CHECK(effectiveConcurrency(*findScenario("ephemeral-noop"), 50) == 10);
    CHECK(effectiveConcurrency(*findScenario("ephemeral-noop"), 5) == 5);
    CHECK(effectiveConcurrency(*findScenario("warm-noop"), 500) == 500);
}

TEST_CASE("PERF_TARGET selects target mode; malformed targets are rejected") {
    const auto r = parseWith({{"PERF_TARGET", "http://127.0.0.1:8000/"}, {"PERF_MODE", "direct"}});
    REQUIRE(r.error.empty());
    CHECK(r.config.mode == Mode::Target);
    REQUIRE(r.config.target.has_value());
    CHECK(r.config.target->host == "127.0.0.1");
    CHECK(r.config.target->port == 8000);
    CHECK(r.config.target->text == "http://127.0.0.1:8000");
    CHECK(parseTargetUrl("http://localhost")->port == 80);
    CHECK_FALSE(parseTargetUrl("https://x:1").has_value());
    CHECK_FALSE(parseTargetUrl("http://x:0").has_value());
    CHECK_FALSE(parseTargetUrl("http://x:1/path").has_value());
    CHECK_FALSE(parseTargetUrl("127.0.0.1:8000").has_value());
    CHECK_FALSE(parseWith({{"PERF_TARGET", "ftp://x"}}).error.empty());
}
