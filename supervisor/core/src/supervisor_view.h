// SPDX-License-Identifier: MIT
// What the admin API sees of a running supervisor (admin::SupervisorView): health,
// metrics, workers and apps assembled from the pool, the worker host and the router, plus
// reload and retire. Core loop only.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "app_logs.h"
#include "asio_worker_host.h"
#include "buntime/admin/routes.h"
#include "buntime/pool/worker_pool.h"
#include "buntime/router/router.h"
#include "buntime/supervisor/config.h"
#include "dispatcher.h"

namespace buntime::supervisor {

class CoreView final : public admin::SupervisorView {
public:
    struct Hooks {
        std::function<void()> reload;
        std::function<bool()> draining;
        // The deploy API (DeployService); unset: the SupervisorView defaults (501, nullopt).
        std::function<RemoveOutcome(std::string_view, std::string_view, bool)> remove_app;
        std::function<std::optional<std::size_t>(std::string_view)> reload_app;
    };
    CoreView(const SupervisorConfig& config, router::Router& router, pool::WorkerPool& pool, Dispatcher& dispatcher,
             AsioWorkerHost& host, Hooks hooks);

    void setListen(std::string listen) { listen_ = std::move(listen); }
    void setAppLogs(const AppLogs* logs) noexcept { app_logs_ = logs; }

    admin::HealthView health() override;
    admin::MetricsView metrics() override;
    std::vector<admin::WorkerRow> workers() override;
    std::vector<admin::AppRow> apps() override;
    bool draining() const override { return hooks_.draining(); }
    void reload() override { hooks_.reload(); }
    bool retire(std::string_view key) override;
    std::optional<std::vector<admin::AppLogLineView>> appLogs(std::string_view name, std::size_t tail) override;
    RemoveOutcome removeApp(std::string_view name, std::string_view version, bool force) override {
        return hooks_.remove_app ? hooks_.remove_app(name, version, force)
                                 : SupervisorView::removeApp(name, version, force);
    }
    std::optional<std::size_t> reloadApp(std::string_view name) override {
        return hooks_.reload_app ? hooks_.reload_app(name) : SupervisorView::reloadApp(name);
    }

private:
    const SupervisorConfig& config_;
    router::Router& router_;
    pool::WorkerPool& pool_;
    Dispatcher& dispatcher_;
    AsioWorkerHost& host_;
    Hooks hooks_;
    std::string listen_;
    const AppLogs* app_logs_ = nullptr;
    base::TimePoint started_at_ = base::Clock::now();
};

}  // namespace buntime::supervisor
