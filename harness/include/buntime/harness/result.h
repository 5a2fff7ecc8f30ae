// SPDX-License-Identifier: MIT
// What one scenario run produces, and the knobs every load driver takes.
#pragma once

#include "buntime/harness/histogram.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace buntime::harness {

// Per-scenario deltas of the runtime's IPC counters over the measured phase.
struct IpcBreakdown {
    std::uint64_t messages_to_worker = 0, messages_to_supervisor = 0;
    std::uint64_t bytes_to_worker = 0, bytes_to_supervisor = 0;
    std::uint64_t wakeups = 0, spin_hits = 0, sleeps = 0, full_stalls = 0;
    double ring_ns_in_per_request = 0, ring_ns_out_per_request = 0, app_ns_per_request = 0;
};

// Spawn-to-ready of the workers that became ready during the measured phase, for one spawn
// path (exec, fork), all app kinds together: the change of the supervisor's
// buntime_worker_spawn_seconds histogram over the phase (see spawn_summary.h).
struct SpawnToReady {
    std::string path;
    std::uint64_t spawns = 0;
    double p50_ms = 0, p99_ms = 0;  // interpolated within the histogram's buckets
};

struct ScenarioResult {
    std::string scenario;
    std::string method, target;
    unsigned concurrency = 0;
    double duration_sec = 0;     // measured phase, actual
    std::uint64_t requests = 0;  // completed in the measured phase, errors included
    std::uint64_t errors = 0;    // timeouts + connection failures + status >= 400
    std::uint64_t timeouts = 0;
    std::uint64_t connection_errors = 0;  // connect/read/write failures, malformed replies
    std::uint64_t http_errors = 0;        // status >= 400
    std::map<int, std::uint64_t> status_counts;
    LatencyHistogram latency;             // every completed measured request (errors included)
    std::uint64_t connectionsOpened = 0;  // whole run (warm-up too); http drivers only
    std::optional<IpcBreakdown> ipc;
    std::vector<SpawnToReady> spawn;  // paths that spawned in the measured phase; empty: none, or no metrics

    double rps() const { return duration_sec > 0 ? static_cast<double>(requests) / duration_sec : 0.0; }
};

// Closed-loop load: `concurrency` loops each keep exactly one request in flight.
struct LoadParams {
    unsigned concurrency = 1;
    std::uint64_t warmup_ms = 0;
    std::uint64_t duration_ms = 1000;
    std::uint64_t timeout_ms = 10000;
    // Called on the driver's thread at the phase boundaries (e.g. to snapshot counters).
    std::function<void()> onMeasuredStart;
    std::function<void()> onMeasuredEnd;
};

}  // namespace buntime::harness
