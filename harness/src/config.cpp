// SPDX-License-Identifier: MIT
// PERF_* environment parsing: invalid values are warned about and replaced by defaults.
#include "buntime/harness/config.h"

#include <charconv>
#include <cstdlib>
#include <limits>

#ifndef BUNTIME_PERF_APPS_DIR
#define BUNTIME_PERF_APPS_DIR "build/examples/apps"
#endif

namespace buntime::harness {

const std::vector<Scenario>& allScenarios() {
    static const std::vector<Scenario> scenarios = {
        {"warm-noop", "GET", "/noop/ping", "", "", 0},
        {"echo-1kb", "POST", "/echo/body", "text/plain", std::string(1024, 'x'), 0},
        {"slow-50ms", "GET", "/slow/wait?ms=50", "", "", 100},
        {"ephemeral-noop", "GET", "/ephemeral/ping", "", "", 10},
    };
    return scenarios;
}

const Scenario* findScenario(const std::string& name) {
    for (const auto& s : allScenarios())
        if (s.name == name) return &s;
    return nullptr;
}

unsigned effectiveConcurrency(const Scenario& s, unsigned concurrency) {
    if (s.concurrency_cap != 0 && concurrency > s.concurrency_cap) return s.concurrency_cap;
    return concurrency;
}

const char* modeName(Mode m) {
    switch (m) {
    case Mode::Http: return "http";
    case Mode::Direct: return "direct";
    case Mode::Target: return "target";
    }
    return "?";
}

std::string defaultAppsDir() { return BUNTIME_PERF_APPS_DIR; }

namespace {

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::optional<std::uint64_t> parseUnsigned(const std::string& text) {
    const std::string t = trim(text);
    if (t.empty()) return std::nullopt;
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc{} || p != t.data() + t.size()) return std::nullopt;
    return v;
}

bool truthy(const std::string& v) { return v == "1" || v == "true" || v == "yes"; }

// Reads an integer env var within [lo, hi]; anything else keeps the default with a warning.
template <typename T>
void readNumber(const EnvLookup& env, const char* name, T& out, std::uint64_t lo, std::uint64_t hi,
                std::vector<std::string>& warnings) {
    const char* raw = env(name);
    if (raw == nullptr || *raw == '\0') return;
    const auto v = parseUnsigned(raw);
    if (!v || *v < lo || *v > hi) {
        warnings.push_back("invalid " + std::string(name) + "=\"" + raw + "\"; using default " + std::to_string(out));
        return;
    }
    out = static_cast<T>(*v);
}

}  // namespace

std::optional<TargetUrl> parseTargetUrl(const std::string& text) {
    std::string t = trim(text);
    const std::string scheme = "http://";
    if (t.rfind(scheme, 0) != 0) return std::nullopt;
    std::string rest = t.substr(scheme.size());
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    if (rest.empty() || rest.find('/') != std::string::npos) return std::nullopt;
    TargetUrl url;
    const auto colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find(']') == std::string::npos) {
        url.host = rest.substr(0, colon);
        const auto port = parseUnsigned(rest.substr(colon + 1));
        if (!port || *port == 0 || *port > 65535) return std::nullopt;
        url.port = static_cast<std::uint16_t>(*port);
    } else {
        url.host = rest;
    }
    if (url.host.empty()) return std::nullopt;
    url.text = scheme + rest;
    return url;
}

ConfigResult parseConfig(const EnvLookup& env) {
    ConfigResult r;
    PerfConfig& c = r.config;
    auto& w = r.warnings;

    if (const char* m = env("PERF_MODE"); m != nullptr && *m != '\0') {
        const std::string mode = trim(m);
        if (mode == "http")
            c.mode = Mode::Http;
        else if (mode == "direct")
            c.mode = Mode::Direct;
        else
            w.push_back("invalid PERF_MODE=\"" + std::string(m) + "\"; using default http");
    }
    constexpr std::uint64_t kMaxMs = std::uint64_t{24} * 3600 * 1000;
    readNumber(env, "PERF_DURATION_MS", c.duration_ms, 1, kMaxMs, w);
    readNumber(env, "PERF_WARMUP_MS", c.warmup_ms, 0, kMaxMs, w);
    readNumber(env, "PERF_CONCURRENCY", c.concurrency, 1, 100000, w);
    readNumber(env, "PERF_POOL_SIZE", c.pool_size, 1, 1000000, w);
    readNumber(env, "PERF_CLIENT_TIMEOUT_MS", c.client_timeout_ms, 1, kMaxMs, w);
    if (const char* p = env("PERF_PORT"); p != nullptr && *p != '\0' && trim(p) != "random")
        readNumber(env, "PERF_PORT", c.port, 1, 65535, w);

    const char* list = env("PERF_SCENARIOS");
    const std::string csv = list == nullptr ? "" : trim(list);
    if (csv.empty() || csv == "all") {
        for (const auto& s : allScenarios()) c.scenarios.push_back(s.name);
    } else {
        std::size_t start = 0;
        while (start <= csv.size()) {
            const auto comma = csv.find(',', start);
            const std::string name =
                trim(csv.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (!name.empty()) {
                if (findScenario(name) == nullptr) {
                    // As the seed harness: an unknown name is skipped (with a warning here).
                    std::string known;
                    for (const auto& s : allScenarios()) {
                        if (!known.empty()) known += ", ";
                        known += s.name;
                    }
                    w.push_back("unknown scenario \"" + name + "\" in PERF_SCENARIOS skipped (known: " + known + ")");
                    if (comma == std::string::npos) break;
                    start = comma + 1;
                    continue;
                }
                bool dup = false;
                for (const auto& n : c.scenarios) dup = dup || n == name;
                if (!dup) c.scenarios.push_back(name);
            }
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        if (c.scenarios.empty()) {
            r.error = "no scenarios selected: PERF_SCENARIOS=\"" + std::string(list) + "\" names no known scenario";
            return r;
        }
    }

    if (const char* v = env("PERF_JSON")) c.json = truthy(trim(v));
    if (const char* v = env("PERF_KEEP_FIXTURES")) c.keep_fixtures = truthy(trim(v));
    if (const char* v = env("PERF_OUTPUT_FILE")) c.output_file = trim(v);
    if (const char* v = env("PERF_GATE_FILE")) c.gate_file = trim(v);
    if (const char* v = env("PERF_FIXTURE_DIR"); v != nullptr && *v != '\0') c.fixture_dir = trim(v);
    c.apps_dir = defaultAppsDir();
    if (const char* v = env("PERF_APPS_DIR"); v != nullptr && *v != '\0') c.apps_dir = trim(v);

    if (const char* t = env("PERF_TARGET"); t != nullptr && *t != '\0') {
        auto url = parseTargetUrl(t);
        if (!url) {
            r.error = "invalid PERF_TARGET=\"" + std::string(t) + "\" (expected http://host:port)";
            return r;
        }
        c.target = std::move(url);
        c.mode = Mode::Target;
    }
    return r;
}

ConfigResult parseConfigFromEnvironment() {
    return parseConfig([](const char* name) { return std::getenv(name); });
}

}  // namespace buntime::harness
