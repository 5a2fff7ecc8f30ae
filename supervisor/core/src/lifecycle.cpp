// SPDX-License-Identifier: MIT
// Tick, signals, systemd notifications, reload and shutdown.
#include "lifecycle.h"

#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "buntime/base/log.h"
#include "buntime/proc/systemd.h"

namespace buntime::supervisor {
namespace {
constexpr std::chrono::milliseconds kTickInterval{50};  // request deadlines and pool health checks
}  // namespace

Lifecycle::Lifecycle(const SupervisorConfig& config, http::Server& server, router::Router& router,
                     pool::WorkerPool& pool, Dispatcher& dispatcher, AsioWorkerHost& host)
    : config_(config),
      server_(server),
      router_(router),
      pool_(pool),
      dispatcher_(dispatcher),
      host_(host),
      tick_timer_(server.ioContext(0)),
      status_timer_(server.ioContext(0)) {}

void Lifecycle::start(bool handle_signals) {
    auto& io = server_.ioContext(0);
    scheduleTick();
    if (handle_signals) {
        signals_ = std::make_unique<boost::asio::signal_set>(io, SIGTERM, SIGINT, SIGHUP);
        waitSignal();
    }
    running_ = true;
    proc::notify("READY=1\nSTATUS=serving, 0 workers\nMAINPID=" + std::to_string(::getpid()));
    notifyStatus();
    if (auto wd = proc::watchdogInterval()) {
        watchdog_timer_ = std::make_unique<boost::asio::steady_timer>(io);
        pingWatchdog(std::chrono::duration_cast<base::Clock::duration>(*wd / 2));
    }
}

void Lifecycle::pingWatchdog(base::Clock::duration period) {
    proc::notify("WATCHDOG=1");
    watchdog_timer_->expires_after(period);
    watchdog_timer_->async_wait([this, period](boost::system::error_code ec) {
        if (!ec) pingWatchdog(period);
    });
}

void Lifecycle::waitSignal() {
    signals_->async_wait([this](boost::system::error_code ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            reload();
        } else {
            base::logInfo("supervisor",
                          std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": draining");
            shutdown();
        }
        waitSignal();
    });
}

void Lifecycle::notifyStatus() {
    if (draining_) return;
    auto m = pool_.metrics(base::Clock::now());
    char buf[160];
    std::snprintf(buf, sizeof buf, "STATUS=serving, %" PRIu64 " workers, %.1f req/s", m.active_workers,
                  m.requests_per_second);
    proc::notify(buf);
    status_timer_.expires_after(std::chrono::seconds(5));
    status_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) notifyStatus();
    });
}

void Lifecycle::scheduleTick() {
    if (!running_ && draining_) return;
    tick_timer_.expires_after(kTickInterval);
    tick_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        tick();
        scheduleTick();
    });
}

void Lifecycle::tick() {
    const auto now = base::Clock::now();
    dispatcher_.tick(now);
    if (draining_) {
        const bool requests_done = dispatcher_.openCalls() == 0 && server_.activeExchanges() == 0;
        if (requests_done || now >= shutdown_deadline_) finishShutdown();
    }
}

void Lifecycle::reload() {
    proc::notify("RELOADING=1");
    router_.clearCaches();
    const auto now = base::Clock::now();
    const auto live = host_.livePooledWorkers();
    for (auto id : live) dispatcher_.apply(pool_.markUnhealthy(id, now), now);
    base::logInfo("supervisor", "reload: caches cleared, manifests will be re-read, " + std::to_string(live.size()) +
                                    " worker(s) recycled after their in-flight requests");
    proc::notify("READY=1");
}

void Lifecycle::shutdown() {
    if (draining_) return;
    draining_ = true;
    proc::notify("STOPPING=1");
    const auto now = base::Clock::now();
    shutdown_deadline_ = now + config_.shutdown_timeout;
    server_.stopAccepting();
    server_.closeIdle();
    dispatcher_.beginDrain(now);
    if (on_drain_) on_drain_();
    tick();
}

void Lifecycle::finishShutdown() {
    if (!running_) return;
    running_ = false;
    dispatcher_.failAll(base::Clock::now());
    host_.terminateAll(config_.terminate_grace);
    // Wait for the workers' onTerminate hooks, then kill what is left.
    waitForWorkersThenStop(base::Clock::now() + config_.terminate_grace);
}

void Lifecycle::waitForWorkersThenStop(base::TimePoint deadline) {
    if (!host_.allExited() && base::Clock::now() < deadline) {
        tick_timer_.expires_after(std::chrono::milliseconds(20));
        tick_timer_.async_wait([this, deadline](boost::system::error_code ec) {
            if (!ec) waitForWorkersThenStop(deadline);
        });
        return;
    }
    host_.killRemaining();
    status_timer_.cancel();
    if (watchdog_timer_) watchdog_timer_->cancel();
    if (signals_) {
        boost::system::error_code ignored;
        signals_->cancel(ignored);
    }
    base::logInfo("supervisor", "stopped");
    server_.stop();
}

}  // namespace buntime::supervisor
