// SPDX-License-Identifier: MIT
// Orchestration of a perf run in http, direct or PERF_TARGET mode.
#include "buntime/harness/runner.h"

#include "buntime/harness/fixtures.h"
#include "buntime/harness/gates.h"
#include "buntime/harness/http_load.h"
#include "buntime/harness/report.h"

#if BUNTIME_PERF_WITH_RUNTIME
#include <buntime/supervisor/runtime.h>
#include "buntime/harness/direct_load.h"
#endif

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace buntime::harness {

namespace fs = std::filesystem;

bool runtimeAvailable() { return BUNTIME_PERF_WITH_RUNTIME != 0; }

std::optional<nlohmann::json> fetchTargetMetrics(const TargetUrl& target) {
    httplib::Client cli(target.host, target.port);
    cli.set_connection_timeout(2, 0);
    cli.set_read_timeout(5, 0);
    auto res = cli.Get("/_/api/metrics");
    if (!res || res->status != 200) return std::nullopt;
    auto doc = nlohmann::json::parse(res->body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
    return doc;
}

int writeFixturesOnly(const std::string& dir, const std::string& apps_dir, std::ostream& err) {
    const std::string e = generateFixtures(dir, apps_dir);
    if (!e.empty()) {
        err << "buntime-perf: " << e << "\n";
        return 1;
    }
    return 0;
}

namespace {

LoadParams paramsFor(const PerfConfig& c, const Scenario& s) {
    LoadParams p;
    p.concurrency = effectiveConcurrency(s, c.concurrency);
    p.warmup_ms = c.warmup_ms;
    p.duration_ms = c.duration_ms;
    p.timeout_ms = c.client_timeout_ms;
    return p;
}

#if BUNTIME_PERF_WITH_RUNTIME
IpcBreakdown ipcDelta(const supervisor::IpcCounters& a, const supervisor::IpcCounters& b) {
    IpcBreakdown d;
    d.messages_to_worker = b.messages_to_worker - a.messages_to_worker;
    d.messages_to_supervisor = b.messages_to_supervisor - a.messages_to_supervisor;
    d.bytes_to_worker = b.bytes_to_worker - a.bytes_to_worker;
    d.bytes_to_supervisor = b.bytes_to_supervisor - a.bytes_to_supervisor;
    d.wakeups = b.wakeups - a.wakeups;
    d.spin_hits = b.spin_hits - a.spin_hits;
    d.sleeps = b.sleeps - a.sleeps;
    d.full_stalls = b.full_stalls - a.full_stalls;
    // The per-request figures are running means; the window's mean is recovered by weighting
    // each snapshot with its message count (messages_to_worker ~ requests).
    auto window = [](double meanA, std::uint64_t nA, double meanB, std::uint64_t nB) {
        if (nB <= nA) return meanB;
        const double v =
            (meanB * static_cast<double>(nB) - meanA * static_cast<double>(nA)) / static_cast<double>(nB - nA);
        return v < 0 ? 0.0 : v;
    };
    d.ring_ns_in_per_request =
        window(a.ring_ns_per_request_in, a.messages_to_worker, b.ring_ns_per_request_in, b.messages_to_worker);
    d.ring_ns_out_per_request = window(a.ring_ns_per_request_out, a.messages_to_supervisor, b.ring_ns_per_request_out,
                                       b.messages_to_supervisor);
    d.app_ns_per_request =
        window(a.app_ns_per_request, a.messages_to_worker, b.app_ns_per_request, b.messages_to_worker);
    return d;
}
#endif

// Gates, tables and JSON; returns the exit code. Runs before the runtime stops, so the
// numbers are out even if shutdown goes wrong.
int emitReport(const PerfConfig& c, const std::vector<ScenarioResult>& results,
               const std::optional<nlohmann::json>& pool, const std::optional<GateParse>& gates, std::ostream& out,
               std::ostream& err) {
    std::ostream& human = c.json ? err : out;
    const auto violations = evaluateGates(gates ? &gates->gates : nullptr, results);
    for (const auto& r : results) human << formatScenario(r);
    human << formatSummary(results);
    if (pool) human << formatPool(*pool);
    human << formatViolations(violations);

    const nlohmann::json report = buildReport(c, results, pool, violations);
    if (c.json) out << report.dump(2) << "\n";
    if (!c.output_file.empty()) {
        std::ofstream f(c.output_file, std::ios::trunc);
        f << report.dump(2) << "\n";
        if (!f) {
            err << "buntime-perf: cannot write " << c.output_file << "\n";
            return 1;
        }
    }
    human.flush();
    out.flush();
    return exitCodeFor(violations);
}

}  // namespace

int runPerf(const PerfConfig& c, std::ostream& out, std::ostream& err) {
    std::ostream& human = c.json ? err : out;
    std::optional<GateParse> gates;
    if (!c.gate_file.empty()) {
        gates = loadGateFile(c.gate_file);
        for (const auto& w : gates->warnings) err << "buntime-perf: warning: " << w << "\n";
        if (!gates->error.empty()) {
            err << "buntime-perf: " << gates->error << "\n";
            return 1;
        }
    }

    std::vector<ScenarioResult> results;
    std::optional<nlohmann::json> pool;
    auto progress = [&](const Scenario& s, const LoadParams& p) {
        err << "buntime-perf: " << s.name << " (" << s.method << " " << s.target << ", concurrency " << p.concurrency
            << ", warm-up " << p.warmup_ms << " ms, measured " << p.duration_ms << " ms)\n";
    };

    if (c.mode == Mode::Target) {
        human << operatorInstructions(c.apps_dir) << "\n";
        HttpEndpoint ep{c.target->host, c.target->port};
        for (const auto& name : c.scenarios) {
            const Scenario& s = *findScenario(name);
            const LoadParams p = paramsFor(c, s);
            progress(s, p);
            results.push_back(runHttpLoad(ep, s, p));
        }
        if (auto m = fetchTargetMetrics(*c.target)) pool = poolSummary(*m);
    } else {
#if BUNTIME_PERF_WITH_RUNTIME
        const std::string fixtures = (fs::current_path() / ".perf-fixtures").string();
        removeFixtures(fixtures);
        if (const std::string e = generateFixtures(fixtures, c.apps_dir); !e.empty()) {
            err << "buntime-perf: " << e << "\n";
            removeFixtures(fixtures);
            return 1;
        }
        int rc = 0;
        {
            auto opts = supervisor::embeddedConfig();
            opts.worker_dirs = {fixtures};
            opts.pool_size = c.pool_size;
            opts.port = c.mode == Mode::Http ? c.port : 0;
            supervisor::Runtime runtime(opts);
            if (auto started = runtime.start(); !started) {
                err << "buntime-perf: runtime failed to start: " << started.error() << "\n";
                rc = 1;
            } else {
                HttpEndpoint ep{"127.0.0.1", runtime.port()};
                for (const auto& name : c.scenarios) {
                    const Scenario& s = *findScenario(name);
                    LoadParams p = paramsFor(c, s);
                    supervisor::IpcCounters before{}, after{};
                    p.onMeasuredStart = [&] { before = runtime.ipcCounters(); };
                    p.onMeasuredEnd = [&] { after = runtime.ipcCounters(); };
                    progress(s, p);
                    ScenarioResult r = c.mode == Mode::Http ? runHttpLoad(ep, s, p) : runDirectLoad(runtime, s, p);
                    r.ipc = ipcDelta(before, after);
                    results.push_back(std::move(r));
                }
                pool = poolSummary(runtime.metrics());
                rc = emitReport(c, results, pool, gates, out, err);
                runtime.stop();
            }
        }
        if (c.keep_fixtures)
            err << "buntime-perf: fixtures kept in " << fixtures << "\n";
        else
            removeFixtures(fixtures);
        return rc;
#else
        err << "buntime-perf: PERF_MODE=" << modeName(c.mode)
            << " needs the supervisor, which this build does not include; set PERF_TARGET=http://host:port\n";
        return 1;
#endif
    }

    return emitReport(c, results, pool, gates, out, err);
}

}  // namespace buntime::harness
