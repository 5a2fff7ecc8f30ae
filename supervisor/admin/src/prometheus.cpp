// SPDX-License-Identifier: MIT
// Prometheus exposition of the supervisor's metrics (text format 0.0.4).
#include "buntime/admin/prometheus.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <type_traits>

namespace buntime::admin {
namespace {

template <typename T>
std::string number(T v) {
    if constexpr (std::is_floating_point_v<T>) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.6g", static_cast<double>(v));
        return buf;
    } else {
        return std::to_string(v);
    }
}

// The series of one per-worker field; the header only when some worker has a value.
template <typename Field>
void workerSeries(std::string& out, const std::vector<WorkerRow>& workers, std::string_view name, std::string_view type,
                  std::string_view help, Field field) {
    bool header = false;
    for (const auto& w : workers) {
        const std::optional<std::string> value = field(w);
        if (!value) continue;
        if (!header) {
            out += "# HELP buntime_worker_" + std::string(name) + " " + std::string(help) + "\n";
            out += "# TYPE buntime_worker_" + std::string(name) + " " + std::string(type) + "\n";
            header = true;
        }
        out += "buntime_worker_" + std::string(name) + "{key=\"" + escapeLabel(w.key) + "\",status=\"" +
               escapeLabel(w.status) + "\"} " + *value + "\n";
    }
}

// buntime_worker_spawn_seconds, a histogram: cumulative buckets (then +Inf), _sum, _count per
// series; nothing when no worker has become ready yet.
void spawnHistogram(std::string& out, const std::vector<SpawnSeriesView>& series) {
    if (series.empty()) return;
    out += "# HELP buntime_worker_spawn_seconds Seconds from the decision to spawn a worker to its ready message.\n";
    out += "# TYPE buntime_worker_spawn_seconds histogram\n";
    for (const auto& s : series) {
        const std::string labels = "path=\"" + escapeLabel(s.path) + "\",kind=\"" + escapeLabel(s.kind) + "\"";
        for (const auto& b : s.buckets)
            out += "buntime_worker_spawn_seconds_bucket{" + labels + ",le=\"" + number(b.le) + "\"} " +
                   number(b.count) + "\n";
        out += "buntime_worker_spawn_seconds_bucket{" + labels + ",le=\"+Inf\"} " + number(s.count) + "\n";
        char sum[64];
        std::snprintf(sum, sizeof sum, "%.9g", s.sum);
        out += "buntime_worker_spawn_seconds_sum{" + labels + "} " + sum + "\n";
        out += "buntime_worker_spawn_seconds_count{" + labels + "} " + number(s.count) + "\n";
    }
}

}  // namespace

std::string escapeLabel(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (c == '\\' || c == '"') out += '\\';
        out += c;
    }
    return out;
}

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

std::string renderPrometheus(const MetricsView& metrics, const std::vector<WorkerRow>& workers) {
    std::string out;
    forEachMetric(metrics, [&](std::string_view key, const auto& value, MetricKind kind) {
        if constexpr (std::is_arithmetic_v<std::remove_cvref_t<decltype(value)>>) {
            if (kind == MetricKind::Text) return;
            const bool counter = kind == MetricKind::Counter;
            // workerRssBytes (all workers together) would be "buntime_worker_rss_bytes", the
            // name of the per-worker series below: one family with two TYPE lines, which a
            // Prometheus server refuses to scrape.
            const bool total_of_workers = static_cast<const void*>(&value) == &metrics.worker_rss_bytes;
            const std::string name = total_of_workers ? "buntime_workers_rss_bytes"
                                                      : "buntime_" + snakeCase(key) + (counter ? "_total" : "");
            out += "# HELP " + name + " Buntime supervisor metric " + std::string(key) + ".\n";
            out += "# TYPE " + name + (counter ? " counter\n" : " gauge\n");
            out += name + " " + number(value) + "\n";
            if (counter) {
                // The seed runtime exports every pool metric as a gauge under its bare name
                // (plugin-metrics' formatPrometheus): the same value, for its dashboards.
                const std::string seed = "buntime_" + snakeCase(key);
                out += "# HELP " + seed + " Buntime metric " + std::string(key) + " (seed name; same value as " + name +
                       ").\n";
                out += "# TYPE " + seed + " gauge\n";
                out += seed + " " + number(value) + "\n";
            }
        }
    });
    spawnHistogram(out, metrics.worker_spawn_seconds);
    using Value = std::optional<std::string>;
    workerSeries(out, workers, "requests_total", "counter", "Requests served by the worker.",
                 [](const WorkerRow& w) -> Value { return number(w.request_count); });
    workerSeries(out, workers, "errors_total", "counter", "Requests that failed in the worker.",
                 [](const WorkerRow& w) -> Value { return number(w.error_count); });
    workerSeries(out, workers, "avg_response_time_ms", "gauge", "Average response time.",
                 [](const WorkerRow& w) -> Value { return number(w.avg_response_time_ms); });
    workerSeries(out, workers, "rss_bytes", "gauge", "Resident memory of the worker process.",
                 [](const WorkerRow& w) -> Value { return w.rss_bytes ? Value(number(*w.rss_bytes)) : std::nullopt; });
    workerSeries(out, workers, "in_flight", "gauge", "Requests in flight in the worker.",
                 [](const WorkerRow& w) -> Value { return number(w.in_flight); });
    return out;
}

}  // namespace buntime::admin
