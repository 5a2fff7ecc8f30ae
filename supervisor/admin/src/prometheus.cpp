// SPDX-License-Identifier: MIT
// Prometheus exposition of the supervisor's metrics (text format 0.0.4).
#include "buntime/admin/prometheus.h"

#include <cctype>
#include <set>
#include <string_view>

namespace buntime::admin {
namespace {

// Metrics that only ever grow are counters; the rest are gauges.
const std::set<std::string, std::less<>> kCounters = {
    "evictions", "hits", "misses", "totalRequests", "totalWorkersCreated", "totalWorkersFailed", "totalWorkersRetired",
};

std::string escapeLabel(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string number(const nlohmann::json& v) {
    if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    if (v.is_number_unsigned()) return std::to_string(v.get<unsigned long long>());
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
    return buf;
}

void workerSeries(std::string& out, const nlohmann::json& workers, std::string_view field, std::string_view name,
                  std::string_view type, std::string_view help) {
    bool header = false;
    for (const auto& w : workers) {
        auto it = w.find(field);
        if (it == w.end() || !it->is_number()) continue;
        if (!header) {
            out += "# HELP buntime_worker_" + std::string(name) + " " + std::string(help) + "\n";
            out += "# TYPE buntime_worker_" + std::string(name) + " " + std::string(type) + "\n";
            header = true;
        }
        out += "buntime_worker_" + std::string(name) + "{key=\"" + escapeLabel(w.value("key", "")) + "\",status=\"" +
               escapeLabel(w.value("status", "")) + "\"} " + number(*it) + "\n";
    }
}

}  // namespace

std::string snakeCase(std::string_view camel) {
    std::string out;
    for (char c : camel) {
        if (std::isupper(static_cast<unsigned char>(c))) {
            if (!out.empty()) out += '_';
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else {
            out += c;
        }
    }
    return out;
}

std::string renderPrometheus(const nlohmann::json& metrics, const nlohmann::json& workers) {
    std::string out;
    for (const auto& [key, value] : metrics.items()) {
        if (!value.is_number() && !value.is_boolean()) continue;
        bool counter = kCounters.count(key) > 0;
        std::string name = "buntime_" + snakeCase(key) + (counter ? "_total" : "");
        out += "# HELP " + name + " Buntime supervisor metric " + key + ".\n";
        out += "# TYPE " + name + (counter ? " counter\n" : " gauge\n");
        out += name + " " + number(value) + "\n";
    }
    workerSeries(out, workers, "requestCount", "requests_total", "counter", "Requests served by the worker.");
    workerSeries(out, workers, "errorCount", "errors_total", "counter", "Requests that failed in the worker.");
    workerSeries(out, workers, "avgResponseTimeMs", "avg_response_time_ms", "gauge", "Average response time.");
    workerSeries(out, workers, "rssBytes", "rss_bytes", "gauge", "Resident memory of the worker process.");
    workerSeries(out, workers, "inFlight", "in_flight", "gauge", "Requests in flight in the worker.");
    return out;
}

bool tokenMatches(std::string_view header, std::string_view token) {
    if (token.empty()) return false;
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() < kBearer.size() || header.substr(0, kBearer.size()) != kBearer) return false;
    auto presented = header.substr(kBearer.size());
    unsigned diff = presented.size() == token.size() ? 0u : 1u;
    for (std::size_t i = 0; i < presented.size(); ++i)
        diff |= static_cast<unsigned>(presented[i] ^ token[i % token.size()]);
    return diff == 0;
}

}  // namespace buntime::admin
