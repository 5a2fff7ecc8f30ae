// SPDX-License-Identifier: MIT
// Orchestration of a perf run in http, direct or PERF_TARGET mode.
#include "buntime/harness/runner.h"

#include "buntime/harness/fixtures.h"
#include "buntime/harness/gates.h"
#include "buntime/harness/report.h"
#include "buntime/harness/spawn_summary.h"

#include <filesystem>
#include <fstream>
#include <iostream>

namespace buntime::harness {

namespace fs = std::filesystem;

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

// Every configured scenario against `target`; the IPC counters (when the target has them)
// are read at the measured phase's boundaries.
std::vector<ScenarioResult> runScenarios(const PerfConfig& c, Target& target, std::ostream& err) {
    std::vector<ScenarioResult> results;
    for (const auto& name : c.scenarios) {
        const Scenario& s = *findScenario(name);
        LoadParams p = paramsFor(c, s);
        std::optional<supervisor::IpcCounters> before, after;
        std::optional<admin::MetricsView> metrics_before, metrics_after;  // for the spawn histogram
        p.onMeasuredStart = [&] {
            before = target.ipcCounters();
            metrics_before = target.metrics();
        };
        p.onMeasuredEnd = [&] {
            after = target.ipcCounters();
            metrics_after = target.metrics();
        };
        err << "buntime-perf: " << s.name << " (" << s.method << " " << s.target << ", concurrency " << p.concurrency
            << ", warm-up " << p.warmup_ms << " ms, measured " << p.duration_ms << " ms)\n";
        ScenarioResult r = target.run(s, p);
        if (before && after) r.ipc = ipcDelta(*before, *after);
        if (metrics_before && metrics_after)
            r.spawn = spawnToReady(metrics_before->worker_spawn_seconds, metrics_after->worker_spawn_seconds);
        results.push_back(std::move(r));
    }
    return results;
}

// Gates, tables and JSON; returns the exit code. Runs before the target stops, so the
// numbers are out even if shutdown goes wrong.
int emitReport(const PerfConfig& c, const std::vector<ScenarioResult>& results,
               const std::optional<admin::MetricsView>& pool, const std::optional<GateParse>& gates, std::ostream& out,
               std::ostream& err) {
    std::ostream& human = c.json ? err : out;
    const auto violations = evaluateGates(gates ? &gates->gates : nullptr, results);
    for (const auto& r : results) human << formatScenario(r);
    human << formatSummary(results);
    if (pool) human << formatPool(*pool);
    human << formatViolations(violations);

    const nlohmann::json report = buildReport(c, results, pool, violations);
    if (c.json) out << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (!c.output_file.empty()) {
        std::ofstream f(c.output_file, std::ios::trunc);
        f << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
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

int runPerf(const PerfConfig& c, std::ostream& out, std::ostream& err, const StartTarget& start) {
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

    if (c.mode == Mode::Target) {
        human << operatorInstructions(c.apps_dir) << "\n";
        HttpTarget target(HttpEndpoint{c.target->host, c.target->port});
        const auto results = runScenarios(c, target, err);
        return emitReport(c, results, target.metrics(), gates, out, err);
    }

    // PERF_FIXTURE_DIR, as in the seed harness: created afresh and removed afterwards.
    const std::string fixtures =
        c.fixture_dir.empty() ? (fs::current_path() / ".perf-fixtures").string() : fs::absolute(c.fixture_dir).string();
    removeFixtures(fixtures);
    if (const std::string e = generateFixtures(fixtures, c.apps_dir); !e.empty()) {
        err << "buntime-perf: " << e << "\n";
        removeFixtures(fixtures);
        return 1;
    }
    int rc = 0;
    if (auto target = start(c, fixtures); !target) {
        err << "buntime-perf: runtime failed to start: " << target.error() << "\n";
        rc = 1;
    } else {
        const auto results = runScenarios(c, *target.value(), err);
        rc = emitReport(c, results, target.value()->metrics(), gates, out, err);
        target.value().reset();  // stops the runtime
    }
    if (c.keep_fixtures)
        err << "buntime-perf: fixtures kept in " << fixtures << "\n";
    else
        removeFixtures(fixtures);
    return rc;
}

}  // namespace buntime::harness
