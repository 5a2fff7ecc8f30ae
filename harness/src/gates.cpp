// SPDX-License-Identifier: MIT
// Gate file parsing and evaluation against scenario results.
#include "buntime/harness/gates.h"

#include "buntime/harness/config.h"

#include <cstdio>
#include <fstream>

namespace buntime::harness {

namespace {

const char* const kMetrics[] = {"maxErrors", "minRps", "maxP95Ms", "maxP99Ms", "maxAvgMs"};

template <typename T>
auto slot(T& t, const std::string& key) -> decltype(&t.max_errors) {
    if (key == "maxErrors") return &t.max_errors;
    if (key == "minRps") return &t.min_rps;
    if (key == "maxP95Ms") return &t.max_p95_ms;
    if (key == "maxP99Ms") return &t.max_p99_ms;
    if (key == "maxAvgMs") return &t.max_avg_ms;
    return nullptr;
}

std::string parseThresholds(const nlohmann::json& obj, const std::string& where, GateThresholds& out,
                            std::vector<std::string>& warnings) {
    if (!obj.is_object()) return where + ": expected an object";
    for (const auto& [key, value] : obj.items()) {
        auto* s = slot(out, key);
        if (s == nullptr) {
            warnings.push_back(where + ": unknown gate \"" + key + "\" ignored");
            continue;
        }
        if (!value.is_number()) return where + "." + key + ": expected a number";
        *s = value.get<double>();
    }
    return {};
}

std::string formatNumber(double v) {
    char buf[64];
    if (v == static_cast<double>(static_cast<long long>(v)) && v < 1e15 && v > -1e15)
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    else
        std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

}  // namespace

GateThresholds GateSet::forScenario(const std::string& name) const {
    GateThresholds t = defaults;
    const auto it = scenarios.find(name);
    if (it == scenarios.end()) return t;
    for (const char* m : kMetrics) {
        const auto* own = slot(it->second, m);
        if (own->has_value()) *slot(t, m) = *own;
    }
    return t;
}

GateParse parseGates(const nlohmann::json& doc) {
    GateParse r;
    if (!doc.is_object()) {
        r.error = "gate file: expected a JSON object";
        return r;
    }
    const bool nested = doc.contains("scenarios") || doc.contains("defaults");
    const nlohmann::json& scenarios =
        nested ? (doc.contains("scenarios") ? doc["scenarios"] : nlohmann::json::object()) : doc;
    if (nested && doc.contains("defaults")) {
        r.error = parseThresholds(doc["defaults"], "defaults", r.gates.defaults, r.warnings);
        if (!r.error.empty()) return r;
    }
    if (!scenarios.is_object()) {
        r.error = "gate file: \"scenarios\" must be an object";
        return r;
    }
    for (const auto& [name, value] : scenarios.items()) {
        if (findScenario(name) == nullptr) {
            r.warnings.push_back("gate file: unknown scenario \"" + name + "\" ignored");
            continue;
        }
        r.error = parseThresholds(value, name, r.gates.scenarios[name], r.warnings);
        if (!r.error.empty()) return r;
    }
    return r;
}

GateParse loadGateFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        GateParse r;
        r.error = "cannot read gate file " + path;
        return r;
    }
    nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
    if (doc.is_discarded()) {
        GateParse r;
        r.error = "gate file " + path + " is not valid JSON";
        return r;
    }
    GateParse r = parseGates(doc);
    if (!r.error.empty()) r.error = path + ": " + r.error;
    return r;
}

std::string Violation::text() const {
    return scenario + " " + metric + ": actual=" + formatNumber(actual) + " expected=" + formatNumber(expected);
}

std::vector<Violation> evaluateGates(const GateSet* gates, const std::vector<ScenarioResult>& results) {
    std::vector<Violation> out;
    for (const auto& r : results) {
        const GateThresholds t = gates != nullptr ? gates->forScenario(r.scenario) : GateThresholds{};
        if (r.requests == 0) out.push_back({r.scenario, "requests", 0, 1});  // nothing completed: fail loud
        const double errors = static_cast<double>(r.errors);
        const double max_errors = t.max_errors.value_or(0.0);
        if (errors > max_errors) out.push_back({r.scenario, "maxErrors", errors, max_errors});
        if (t.min_rps && r.rps() < *t.min_rps) out.push_back({r.scenario, "minRps", r.rps(), *t.min_rps});
        const double p95 = static_cast<double>(r.latency.percentileNs(95)) / 1e6;
        const double p99 = static_cast<double>(r.latency.percentileNs(99)) / 1e6;
        const double avg = r.latency.meanNs() / 1e6;
        if (t.max_p95_ms && p95 > *t.max_p95_ms) out.push_back({r.scenario, "maxP95Ms", p95, *t.max_p95_ms});
        if (t.max_p99_ms && p99 > *t.max_p99_ms) out.push_back({r.scenario, "maxP99Ms", p99, *t.max_p99_ms});
        if (t.max_avg_ms && avg > *t.max_avg_ms) out.push_back({r.scenario, "maxAvgMs", avg, *t.max_avg_ms});
    }
    return out;
}

int exitCodeFor(const std::vector<Violation>& violations) { return violations.empty() ? 0 : 1; }

}  // namespace buntime::harness
