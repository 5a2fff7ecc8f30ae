// SPDX-License-Identifier: MIT
// Report rendering: per-scenario tables, pool metrics, violations, JSON.
#include "buntime/harness/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <sstream>

namespace buntime::harness {

namespace {

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string statusText(const ScenarioResult& r) {
    std::string s;
    for (const auto& [code, n] : r.status_counts) {
        if (!s.empty()) s += ' ';
        s += std::to_string(code);
        s += '=';
        s += std::to_string(n);
    }
    return s.empty() ? "-" : s;
}

std::string bytesText(double b) {
    if (b >= 1024.0 * 1024.0 * 1024.0) return fmt("%.2f GiB", b / (1024.0 * 1024.0 * 1024.0));
    if (b >= 1024.0 * 1024.0) return fmt("%.1f MiB", b / (1024.0 * 1024.0));
    if (b >= 1024.0) return fmt("%.1f KiB", b / 1024.0);
    return fmt("%.0f B", b);
}

double perRequest(std::uint64_t total, std::uint64_t requests) {
    return requests == 0 ? 0.0 : static_cast<double>(total) / static_cast<double>(requests);
}

}  // namespace

nlohmann::json poolSummary(const admin::MetricsView& m) {
    const void* kept[] = {&m.active_workers,
                          &m.hit_rate,
                          &m.hits,
                          &m.misses,
                          &m.total_workers_created,
                          &m.total_workers_failed,
                          &m.memory_usage_mb,
                          &m.supervisor_rss_bytes,
                          &m.worker_rss_bytes};
    nlohmann::json out = nlohmann::json::object();
    // The keys come from the admin schema: the report names the fields as the supervisor does.
    admin::forEachMetric(m, [&](const char* key, const auto& field, admin::MetricKind) {
        if (std::find(std::begin(kept), std::end(kept), static_cast<const void*>(&field)) != std::end(kept))
            out[key] = field;
    });
    return out;
}

nlohmann::json poolMetricsJson(const admin::MetricsView& m) {
    return {
        {"activeWorkers", m.active_workers},
        {"avgResponseTimeMs", m.avg_response_time_ms},
        {"ephemeralConcurrency", m.ephemeral_concurrency},
        {"ephemeralQueueDepth", m.ephemeral_queue_depth},
        {"ephemeralQueueLimit", m.ephemeral_queue_limit},
        {"evictions", m.evictions},
        {"hitRate", m.hit_rate},
        {"hits", m.hits},
        {"memoryUsageMB", m.memory_usage_mb},
        {"misses", m.misses},
        {"requestsPerSecond", m.requests_per_second},
        {"totalRequests", m.total_requests},
        {"totalWorkersFailed", m.total_workers_failed},
        {"totalWorkersCreated", m.total_workers_created},
        {"totalWorkersRetired", m.total_workers_retired},
        {"uptimeMs", m.uptime_ms},
    };
}

nlohmann::json resultJson(const ScenarioResult& r) {
    nlohmann::json status = nlohmann::json::object();
    for (const auto& [code, n] : r.status_counts) status[std::to_string(code)] = n;
    // The seed counts transport failures (no status at all) under "error".
    if (const auto transport = r.timeouts + r.connection_errors; transport > 0) status["error"] = transport;
    const double p50 = round3(ms(r.latency.percentileNs(50))), p95 = round3(ms(r.latency.percentileNs(95))),
                 p99 = round3(ms(r.latency.percentileNs(99))), avg = round3(r.latency.meanNs() / 1e6),
                 min = round3(ms(r.latency.minNs())), max = round3(ms(r.latency.maxNs()));
    nlohmann::json j = {
        {"name", r.scenario},
        {"p50Ms", p50},
        {"p95Ms", p95},
        {"p99Ms", p99},
        {"avgMs", avg},
        {"maxMs", max},
        {"minMs", min},
        {"scenario", r.scenario},
        {"method", r.method},
        {"path", r.target},
        {"concurrency", r.concurrency},
        {"durationMs", round3(r.duration_sec * 1000.0)},
        {"requests", r.requests},
        {"rps", round3(r.rps())},
        {"errors", r.errors},
        {"timeouts", r.timeouts},
        {"connectionErrors", r.connection_errors},
        {"httpErrors", r.http_errors},
        {"statusCounts", status},
        {"latencyMs", {{"p50", p50}, {"p95", p95}, {"p99", p99}, {"avg", avg}, {"min", min}, {"max", max}}},
    };
    if (r.connectionsOpened > 0) j["connectionsOpened"] = r.connectionsOpened;
    if (!r.spawn.empty()) {
        nlohmann::json spawn = nlohmann::json::object();
        for (const auto& s : r.spawn)
            spawn[s.path] = {{"spawns", s.spawns}, {"p50Ms", round3(s.p50_ms)}, {"p99Ms", round3(s.p99_ms)}};
        j["spawnToReady"] = spawn;
    }
    if (r.ipc) {
        const auto& x = *r.ipc;
        j["ipc"] = {
            {"ringNsPerRequestIn", round3(x.ring_ns_in_per_request)},
            {"ringNsPerRequestOut", round3(x.ring_ns_out_per_request)},
            {"appNsPerRequest", round3(x.app_ns_per_request)},
            {"messagesToWorker", x.messages_to_worker},
            {"messagesToSupervisor", x.messages_to_supervisor},
            {"bytesToWorker", x.bytes_to_worker},
            {"bytesToSupervisor", x.bytes_to_supervisor},
            {"wakeups", x.wakeups},
            {"spinHits", x.spin_hits},
            {"sleeps", x.sleeps},
            {"fullStalls", x.full_stalls},
            {"wakeupsPerRequest", round3(perRequest(x.wakeups, r.requests))},
            {"spinHitsPerRequest", round3(perRequest(x.spin_hits, r.requests))},
            {"bytesToWorkerPerRequest", round3(perRequest(x.bytes_to_worker, r.requests))},
            {"bytesToSupervisorPerRequest", round3(perRequest(x.bytes_to_supervisor, r.requests))},
        };
    }
    return j;
}

nlohmann::json buildReport(const PerfConfig& c, const std::vector<ScenarioResult>& results,
                           const std::optional<admin::MetricsView>& pool, const std::vector<Violation>& violations) {
    nlohmann::json config = {
        {"mode", modeName(c.mode)},
        {"durationMs", c.duration_ms},
        {"warmupMs", c.warmup_ms},
        {"concurrency", c.concurrency},
        {"poolSize", c.pool_size},
        {"clientTimeoutMs", c.client_timeout_ms},
        {"port", c.port == 0 ? nlohmann::json("random") : nlohmann::json(c.port)},
        {"scenarios", c.scenarios},
        {"gateFile", c.gate_file.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.gate_file)},
    };
    if (c.target) config["target"] = c.target->text;
    // The seed's config keys (its serializeConfig), next to the native ones above.
    const std::string fixture_dir =
        c.fixture_dir.empty() ? std::string(".perf-fixtures") : c.fixture_dir;  // relative to the run directory
    config["fixtureDir"] = fixture_dir;
    config["keepFixtures"] = c.keep_fixtures;
    if (!c.gate_file.empty()) config["gateFile"] = c.gate_file;
    if (!c.output_file.empty()) config["outputFile"] = c.output_file;
    std::vector<std::string> filter = c.scenarios;
    std::sort(filter.begin(), filter.end());
    config["scenarioFilter"] = filter;
    nlohmann::json res = nlohmann::json::array();
    for (const auto& r : results) res.push_back(resultJson(r));
    nlohmann::json viol = nlohmann::json::array(), gate_violations = nlohmann::json::array();
    for (const auto& v : violations) {
        viol.push_back({{"scenario", v.scenario},
                        {"metric", v.metric},
                        {"actual", round3(v.actual)},
                        {"expected", v.expected},
                        {"message", v.text()}});
        gate_violations.push_back(
            {{"actual", round3(v.actual)}, {"expected", v.expected}, {"metric", v.metric}, {"scenario", v.scenario}});
    }
    return {
        {"config", config},
        {"gateViolations", gate_violations},
        {"poolMetrics", pool ? poolMetricsJson(*pool) : nlohmann::json(nullptr)},
        {"results", res},
        {"pool", pool ? poolSummary(*pool) : nlohmann::json(nullptr)},
        {"gate",
         {{"file", c.gate_file.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.gate_file)}, {"violations", viol}}},
        {"passed", violations.empty()},
    };
}

std::string formatScenario(const ScenarioResult& r) {
    std::ostringstream o;
    o << "\n== " << r.scenario << "  " << r.method << " " << r.target << "  concurrency=" << r.concurrency
      << "  measured=" << fmt("%.0f", r.duration_sec * 1000.0) << " ms\n";
    auto row = [&](const char* k, const std::string& v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "  %-10s ", k);
        o << buf << v << "\n";
    };
    row("requests", std::to_string(r.requests));
    row("rps", fmt("%.1f", r.rps()));
    row("errors", std::to_string(r.errors) + " (timeouts " + std::to_string(r.timeouts) + ", connection " +
                      std::to_string(r.connection_errors) + ", status>=400 " + std::to_string(r.http_errors) + ")");
    row("p50", fmt("%.3f ms", ms(r.latency.percentileNs(50))));
    row("p95", fmt("%.3f ms", ms(r.latency.percentileNs(95))));
    row("p99", fmt("%.3f ms", ms(r.latency.percentileNs(99))));
    row("avg", fmt("%.3f ms", r.latency.meanNs() / 1e6));
    row("max", fmt("%.3f ms", ms(r.latency.maxNs())));
    row("status", statusText(r));
    for (const auto& s : r.spawn)  // e.g. "spawn exec  p50 12.300 ms  p99 20.100 ms  (1500 spawns)"
        row(("spawn " + s.path).c_str(), fmt("p50 %.3f ms", s.p50_ms) + fmt("  p99 %.3f ms", s.p99_ms) + "  (" +
                                             std::to_string(s.spawns) + " spawns, spawn-to-ready)");
    if (r.ipc) {
        const auto& x = *r.ipc;
        row("ring in", fmt("%.0f ns/req", x.ring_ns_in_per_request));
        row("ring out", fmt("%.0f ns/req", x.ring_ns_out_per_request));
        row("app", fmt("%.0f ns/req", x.app_ns_per_request));
        row("wakeups", fmt("%.3f/req", perRequest(x.wakeups, r.requests)) + "  spins " +
                           fmt("%.3f/req", perRequest(x.spin_hits, r.requests)) + "  sleeps " +
                           std::to_string(x.sleeps) + "  full stalls " + std::to_string(x.full_stalls));
        row("bytes", "to worker " + bytesText(static_cast<double>(x.bytes_to_worker)) + " (" +
                         fmt("%.0f B/req", perRequest(x.bytes_to_worker, r.requests)) + "), to supervisor " +
                         bytesText(static_cast<double>(x.bytes_to_supervisor)) + " (" +
                         fmt("%.0f B/req", perRequest(x.bytes_to_supervisor, r.requests)) + ")");
    }
    return o.str();
}

std::string formatSummary(const std::vector<ScenarioResult>& results) {
    std::ostringstream o;
    char buf[256];
    std::snprintf(buf, sizeof buf, "\n%-16s %10s %10s %7s %9s %9s %9s %9s %9s  %s\n", "scenario", "requests", "rps",
                  "errors", "p50 ms", "p95 ms", "p99 ms", "avg ms", "max ms", "status");
    o << buf;
    for (const auto& r : results) {
        std::snprintf(buf, sizeof buf, "%-16s %10llu %10.1f %7llu %9.3f %9.3f %9.3f %9.3f %9.3f  ", r.scenario.c_str(),
                      static_cast<unsigned long long>(r.requests), r.rps(), static_cast<unsigned long long>(r.errors),
                      ms(r.latency.percentileNs(50)), ms(r.latency.percentileNs(95)), ms(r.latency.percentileNs(99)),
                      r.latency.meanNs() / 1e6, ms(r.latency.maxNs()));
        o << buf << statusText(r) << "\n";
    }
    return o.str();
}

std::string formatPool(const admin::MetricsView& pool) {
    std::ostringstream o;
    o << "\nPool metrics\n";
    auto line = [&](const char* label, const std::string& v) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "  %-22s ", label);
        o << buf << v << "\n";
    };
    auto num = [](auto v) { return static_cast<double>(v); };
    line("active workers", fmt("%.0f", num(pool.active_workers)));
    const double hits = num(pool.hits), misses = num(pool.misses);
    if (hits + misses > 0)
        line("hit rate",
             fmt("%.1f%%", 100.0 * hits / (hits + misses)) + fmt(" (%.0f hits", hits) + fmt(", %.0f misses)", misses));
    else
        line("hit rate", fmt("%.1f", pool.hit_rate));
    line("worker creations", fmt("%.0f", num(pool.total_workers_created)));
    line("worker failures", fmt("%.0f", num(pool.total_workers_failed)));
    line("supervisor RSS", bytesText(num(pool.supervisor_rss_bytes)));
    line("workers RSS (total)", bytesText(num(pool.worker_rss_bytes)));
    line("memory usage", fmt("%.1f MB", pool.memory_usage_mb));
    return o.str();
}

std::string formatViolations(const std::vector<Violation>& violations) {
    if (violations.empty()) return "\nGates: passed\n";
    std::string s = "\nGate violations (" + std::to_string(violations.size()) + "):\n";
    for (const auto& v : violations) s += "  " + v.text() + "\n";
    return s;
}

}  // namespace buntime::harness
