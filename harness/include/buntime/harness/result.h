// SPDX-License-Identifier: MIT
// What one scenario run produces, and the knobs every load driver takes.
#pragma once

#include "buntime/harness/histogram.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace buntime::harness {

// Per-scenario deltas of the runtime's IPC counters over the measured phase.
struct IpcBreakdown {
    std::uint64_t messagesToWorker = 0, messagesToSupervisor = 0;
    std::uint64_t bytesToWorker = 0, bytesToSupervisor = 0;
    std::uint64_t wakeups = 0, spinHits = 0, sleeps = 0, fullStalls = 0;
    double ringNsInPerRequest = 0, ringNsOutPerRequest = 0, appNsPerRequest = 0;
};

struct ScenarioResult {
    std::string scenario;
    std::string method, target;
    unsigned concurrency = 0;
    double durationSec = 0;                 // measured phase, actual
    std::uint64_t requests = 0;             // completed in the measured phase, errors included
    std::uint64_t errors = 0;               // timeouts + connection failures + status >= 400
    std::uint64_t timeouts = 0;
    std::uint64_t connectionErrors = 0;     // connect/read/write failures, malformed replies
    std::uint64_t httpErrors = 0;           // status >= 400
    std::map<int, std::uint64_t> statusCounts;
    LatencyHistogram latency;               // every completed measured request (errors included)
    std::uint64_t connectionsOpened = 0;    // whole run (warm-up too); http drivers only
    std::optional<IpcBreakdown> ipc;

    double rps() const { return durationSec > 0 ? static_cast<double>(requests) / durationSec : 0.0; }
};

// Closed-loop load: `concurrency` loops each keep exactly one request in flight.
struct LoadParams {
    unsigned concurrency = 1;
    std::uint64_t warmupMs = 0;
    std::uint64_t durationMs = 1000;
    std::uint64_t timeoutMs = 10000;
    // Called on the driver's thread at the phase boundaries (e.g. to snapshot counters).
    std::function<void()> onMeasuredStart;
    std::function<void()> onMeasuredEnd;
};

} // namespace buntime::harness
