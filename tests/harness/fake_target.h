// SPDX-License-Identifier: MIT
// A stand-in for the embedded supervisor in harness tests: FakeRuntime serves the four
// fixture apps over HTTP (TestServer) and through a direct submit, answers the admin API with
// admin::AdminApi (golden views, live pool counters), and keeps IPC counters whose per-request
// times vary by app and request. FakeTarget is the harness::Target over it, and fakeStart()
// the StartTarget that runPerf uses instead of the embedded supervisor.
#pragma once

#include "buntime/harness/direct_load.h"
#include "buntime/harness/runner.h"
#include "buntime/harness/target.h"
#include "test_server.h"

#include <buntime/admin/routes.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace buntime::harness::test {

// Thread-safe: requests run on the server's io thread, the accessors on any thread.
class FakeRuntime final : public admin::SupervisorView {
public:
    // Like the real runtime, refuses to start unless every fixture app (manifest.yaml and
    // app.so) is in `fixtures_dir`. port 0: a free one.
    static base::Expected<std::shared_ptr<FakeRuntime>, std::string> start(const std::string& fixtures_dir,
                                                                           std::uint16_t port = 0,
                                                                           std::size_t pool_size = 100);
    ~FakeRuntime() override;

    std::uint16_t port() const { return server_->port(); }
    HttpEndpoint endpoint() const { return {"127.0.0.1", port()}; }
    // Answers on the server thread, never before returning (as Runtime::direct).
    void direct(supervisor::DirectRequest request, DirectDone done);

    // The IPC counters as the runtime reports them (running means per request), recorded.
    supervisor::IpcCounters ipcCounters();

    // One ipcCounters() answer and the exact sums of the per-request times behind it.
    struct Snapshot {
        supervisor::IpcCounters counters;
        double ring_in_ns_sum = 0;
        double ring_out_ns_sum = 0;
        double app_ns_sum = 0;
    };
    // Every ipcCounters() answer so far, in order.
    std::vector<Snapshot> snapshots() const;

    // admin::SupervisorView: golden health, workers and apps; metrics are the golden ones
    // with this fake's pool counters (workers, hits, misses, creations, requests, pool size).
    admin::HealthView health() override;
    admin::MetricsView metrics() override;
    std::vector<admin::WorkerRow> workers() override;
    std::vector<admin::AppRow> apps() override;
    bool draining() const override { return false; }
    void reload() override {}
    bool retire(std::string_view) override { return false; }

private:
    explicit FakeRuntime(std::size_t pool_size);
    void route(const TestRequest& request, const std::function<void(TestResponse)>& reply);
    void account(const std::string& app, const TestRequest& request);

    std::size_t pool_size_;
    std::unique_ptr<TestServer> server_;
    admin::AdminApi admin_api_;  // used on the server thread only
    mutable std::mutex mu_;
    std::set<std::string> warm_;  // apps with a live (fake) worker
    std::uint64_t hits_ = 0, misses_ = 0, created_ = 0;
    Snapshot now_;  // counters with running means, and the sums behind them
    std::vector<Snapshot> snapshots_;
};

// PERF_MODE http: HTTP load on the fake's port; direct: its direct(). Metrics and IPC
// counters from the fake.
class FakeTarget final : public Target {
public:
    FakeTarget(std::shared_ptr<FakeRuntime> runtime, Mode mode);
    ScenarioResult run(const Scenario& scenario, const LoadParams& params) override;
    std::optional<admin::MetricsView> metrics() override;
    std::optional<supervisor::IpcCounters> ipcCounters() override;

private:
    std::shared_ptr<FakeRuntime> runtime_;
    Mode mode_;
};

// A StartTarget that starts a FakeRuntime (config.port in http mode, config.pool_size) and
// stores it in *started, so the test can read what the fake produced after the run.
StartTarget fakeStart(std::shared_ptr<FakeRuntime>* started = nullptr);

}  // namespace buntime::harness::test
