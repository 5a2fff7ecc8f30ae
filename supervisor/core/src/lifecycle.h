// SPDX-License-Identifier: MIT
// The supervisor's life after start: the 50 ms tick, signals (SIGTERM/SIGINT drain,
// SIGHUP reload), systemd READY/STATUS/WATCHDOG/STOPPING, reload, and the drain that ends
// with every worker terminated (killed after the grace) and the event loops stopped.
//
// Thread-safety: core loop only, except running(), which any thread may read.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "asio_worker_host.h"
#include "buntime/http/server.h"
#include "buntime/pool/worker_pool.h"
#include "buntime/router/router.h"
#include "buntime/supervisor/config.h"
#include "dispatcher.h"

namespace buntime::supervisor {

class Lifecycle {
public:
    Lifecycle(const SupervisorConfig& config, http::Server& server, router::Router& router, pool::WorkerPool& pool,
              Dispatcher& dispatcher, AsioWorkerHost& host);

    // Timers, signal handling (if asked) and READY=1. Call once, after the server started.
    void start(bool handle_signals);
    // What SIGHUP does: drop the caches (manifests are read again) and recycle every pooled
    // worker after its requests.
    void reload();
    // What SIGTERM does: stop accepting, answer what is in flight (up to the shutdown
    // timeout), terminate the workers, stop the loops.
    void shutdown();
    bool draining() const noexcept { return draining_; }
    // Runs when shutdown begins (after the server stopped accepting): ends long-lived
    // responses (log followers) so they do not hold the drain.
    void onDrain(std::function<void()> callback) { on_drain_ = std::move(callback); }
    bool running() const noexcept { return running_.load(); }

private:
    void scheduleTick();
    void tick();
    void notifyStatus();
    void waitSignal();
    void pingWatchdog(base::Clock::duration period);
    void finishShutdown();
    void waitForWorkersThenStop(base::TimePoint deadline);

    const SupervisorConfig& config_;
    http::Server& server_;
    router::Router& router_;
    pool::WorkerPool& pool_;
    Dispatcher& dispatcher_;
    AsioWorkerHost& host_;
    boost::asio::steady_timer tick_timer_;
    boost::asio::steady_timer status_timer_;
    std::unique_ptr<boost::asio::steady_timer> watchdog_timer_;
    std::unique_ptr<boost::asio::signal_set> signals_;
    std::atomic<bool> running_{false};
    bool draining_ = false;
    base::TimePoint shutdown_deadline_;
    std::function<void()> on_drain_;
};

}  // namespace buntime::supervisor
