// SPDX-License-Identifier: MIT
// The admin API's view of a running supervisor: health, metrics, workers, apps, and the
// two operations (reload, retire). Core loop only.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "asio_worker_host.h"
#include "buntime/pool/worker_pool.h"
#include "buntime/router/router.h"
#include "buntime/supervisor/client.h"
#include "buntime/supervisor/config.h"
#include "dispatcher.h"

namespace buntime::supervisor {

class AdminView {
public:
    struct Hooks {
        std::function<void()> reload;
        std::function<bool()> draining;
    };
    AdminView(const SupervisorConfig& config, router::Router& router, pool::WorkerPool& pool, Dispatcher& dispatcher,
              AsioWorkerHost& host, Hooks hooks);

    void setListen(std::string listen) { listen_ = std::move(listen); }
    // Serves /_/… admin routes (reads open; mutating calls need the admin socket or the token).
    void serve(const std::shared_ptr<Client>& client);

    nlohmann::json health() const;
    nlohmann::json metrics();
    nlohmann::json workers() const;
    nlohmann::json apps() const;

private:
    bool retire(std::string_view key);

    const SupervisorConfig& config_;
    router::Router& router_;
    pool::WorkerPool& pool_;
    Dispatcher& dispatcher_;
    AsioWorkerHost& host_;
    Hooks hooks_;
    std::string listen_;
    base::TimePoint started_at_ = base::Clock::now();
};

}  // namespace buntime::supervisor
