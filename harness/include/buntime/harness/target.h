// SPDX-License-Identifier: MIT
// Where a perf run sends its load and where it reads the pool metrics and IPC counters: an
// HTTP server (PERF_TARGET, or the embedded runtime's port) or the embedded runtime's direct
// mode. The runner knows only Target; tests hand it a fake one.
#pragma once

#include "buntime/harness/config.h"
#include "buntime/harness/http_load.h"
#include "buntime/harness/result.h"

#include <buntime/admin/schema.h>
#include <buntime/base/expected.h>
#include <buntime/supervisor/runtime.h>

#include <memory>
#include <optional>
#include <string>

namespace buntime::harness {

// One target per run. The runner calls it from one thread; run() blocks that thread.
class Target {
public:
    virtual ~Target() = default;
    // Warm-up then the measured phase of one scenario (closed loop, params.concurrency loops).
    virtual ScenarioResult run(const Scenario& scenario, const LoadParams& params) = 0;
    // The supervisor's pool metrics (/_/api/metrics); nullopt when the target has none.
    virtual std::optional<admin::MetricsView> metrics() = 0;
    // Cumulative IPC counters; nullopt when the target cannot see them (a remote server).
    virtual std::optional<supervisor::IpcCounters> ipcCounters() = 0;
};

// HTTP/1.1 load on `endpoint`. Without a runtime (PERF_TARGET): metrics from
// GET /_/api/metrics, no IPC counters. With the embedded runtime that serves `endpoint`:
// metrics and IPC counters read from it; the target owns it and stops it when destroyed.
class HttpTarget final : public Target {
public:
    explicit HttpTarget(HttpEndpoint endpoint, std::unique_ptr<supervisor::Runtime> runtime = nullptr);
    ScenarioResult run(const Scenario& scenario, const LoadParams& params) override;
    std::optional<admin::MetricsView> metrics() override;
    std::optional<supervisor::IpcCounters> ipcCounters() override;

private:
    HttpEndpoint endpoint_;
    std::unique_ptr<supervisor::Runtime> runtime_;
};

// Load through Runtime::direct (no sockets); metrics and IPC counters from the runtime,
// which the target owns and stops when destroyed.
class DirectTarget final : public Target {
public:
    explicit DirectTarget(std::unique_ptr<supervisor::Runtime> runtime);
    ScenarioResult run(const Scenario& scenario, const LoadParams& params) override;
    std::optional<admin::MetricsView> metrics() override;
    std::optional<supervisor::IpcCounters> ipcCounters() override;

private:
    std::unique_ptr<supervisor::Runtime> runtime_;
};

// Starts the embedded supervisor on the apps in `fixtures_dir` (config.pool_size; config.port
// in http mode, a free port in direct mode) and returns the target of config.mode, HttpTarget
// on its port or DirectTarget, owning it. The error says why the runtime did not start.
base::Expected<std::unique_ptr<Target>, std::string> startEmbeddedTarget(const PerfConfig& config,
                                                                         const std::string& fixtures_dir);

// GET http://host:port/_/api/metrics; nullopt when the server does not answer 200 with JSON
// that fits the admin metrics schema.
std::optional<admin::MetricsView> fetchTargetMetrics(const HttpEndpoint& endpoint);

// The metrics view of what Runtime::metrics() returns (JSON today); nullopt when it does not
// fit the schema.
std::optional<admin::MetricsView> metricsOf(const nlohmann::json& metrics);
inline std::optional<admin::MetricsView> metricsOf(const admin::MetricsView& metrics) { return metrics; }

}  // namespace buntime::harness
