// SPDX-License-Identifier: MIT
// The HTTP and direct targets of a perf run, and the embedded runtime behind them.
#include "buntime/harness/target.h"

#include "buntime/harness/direct_load.h"

#include <httplib.h>

namespace buntime::harness {

std::optional<admin::MetricsView> metricsOf(const nlohmann::json& metrics) {
    auto view = admin::parse<admin::MetricsView>(metrics);
    if (!view) return std::nullopt;
    return std::move(view.value());
}

std::optional<admin::MetricsView> fetchTargetMetrics(const HttpEndpoint& endpoint) {
    httplib::Client cli(endpoint.host, endpoint.port);
    cli.set_connection_timeout(2, 0);
    cli.set_read_timeout(5, 0);
    auto res = cli.Get("/_/api/metrics");
    if (!res || res->status != 200) return std::nullopt;
    const auto doc = nlohmann::json::parse(res->body, nullptr, false);
    if (doc.is_discarded()) return std::nullopt;
    return metricsOf(doc);
}

HttpTarget::HttpTarget(HttpEndpoint endpoint, std::unique_ptr<supervisor::Runtime> runtime)
    : endpoint_(std::move(endpoint)), runtime_(std::move(runtime)) {}

ScenarioResult HttpTarget::run(const Scenario& scenario, const LoadParams& params) {
    return runHttpLoad(endpoint_, scenario, params);
}

std::optional<admin::MetricsView> HttpTarget::metrics() {
    return runtime_ ? metricsOf(runtime_->metrics()) : fetchTargetMetrics(endpoint_);
}

std::optional<supervisor::IpcCounters> HttpTarget::ipcCounters() {
    if (!runtime_) return std::nullopt;
    return runtime_->ipcCounters();
}

DirectTarget::DirectTarget(std::unique_ptr<supervisor::Runtime> runtime) : runtime_(std::move(runtime)) {}

ScenarioResult DirectTarget::run(const Scenario& scenario, const LoadParams& params) {
    supervisor::Runtime* runtime = runtime_.get();
    return runDirectLoad([runtime](supervisor::DirectRequest request,
                                   DirectDone done) { runtime->direct(std::move(request), std::move(done)); },
                         scenario, params);
}

std::optional<admin::MetricsView> DirectTarget::metrics() { return metricsOf(runtime_->metrics()); }

std::optional<supervisor::IpcCounters> DirectTarget::ipcCounters() { return runtime_->ipcCounters(); }

base::Expected<std::unique_ptr<Target>, std::string> startEmbeddedTarget(const PerfConfig& config,
                                                                         const std::string& fixtures_dir) {
    auto options = supervisor::embeddedConfig();
    options.worker_dirs = {fixtures_dir};
    options.pool_size = config.pool_size;
    options.port = config.mode == Mode::Http ? config.port : 0;
    auto runtime = std::make_unique<supervisor::Runtime>(options);
    if (auto started = runtime->start(); !started) return started.error();
    if (config.mode == Mode::Direct) return std::unique_ptr<Target>(std::make_unique<DirectTarget>(std::move(runtime)));
    const HttpEndpoint endpoint{"127.0.0.1", runtime->port()};
    return std::unique_ptr<Target>(std::make_unique<HttpTarget>(endpoint, std::move(runtime)));
}

}  // namespace buntime::harness
