// SPDX-License-Identifier: MIT
// The supervisor's admin views and operations.
#include "supervisor_view.h"

#include <unistd.h>

#include "build_info.h"
#include "buntime/admin/pool_views.h"
#include "buntime/proc/rss.h"
#include "buntime/proto/launch.h"
#include "buntime/router/json.h"

namespace buntime::supervisor {
namespace {

admin::RingView ringView(const shm::RingStats& c, std::size_t capacity, std::size_t used) {
    return admin::RingView{capacity,  used,        c.high_water, c.messages,   c.bytes,
                           c.wakeups, c.spin_hits, c.sleeps,     c.full_stalls};
}

admin::ManifestError manifestError(const router::Error& e, const std::filesystem::path& fallback_file) {
    return {e.file.empty() ? fallback_file.string() : e.file, e.key, e.message};
}

}  // namespace

CoreView::CoreView(const SupervisorConfig& config, router::Router& router, pool::WorkerPool& pool,
                   Dispatcher& dispatcher, AsioWorkerHost& host, Hooks hooks)
    : config_(config), router_(router), pool_(pool), dispatcher_(dispatcher), host_(host), hooks_(std::move(hooks)) {}

bool CoreView::retire(std::string_view key) {
    auto id = host_.livePooledWorker(key);
    if (!id) return false;
    const auto now = base::Clock::now();
    dispatcher_.apply(pool_.markUnhealthy(*id, now), now);
    return true;
}

admin::HealthView CoreView::health() {
    return {true,
            draining() ? "draining" : "healthy",
            BUNTIME_VERSION,
            ::getpid(),
            std::chrono::duration_cast<std::chrono::milliseconds>(base::Clock::now() - started_at_).count(),
            listen_};
}

admin::MetricsView CoreView::metrics() {
    const auto rss = proc::selfRssBytes().value_or(0);
    std::uint64_t worker_rss = 0;
    for (int pid : host_.livePids()) worker_rss += proc::rssBytes(pid).value_or(0);
    pool_.setMemoryUsageMB(static_cast<double>(rss) / (1024.0 * 1024.0));
    auto m = admin::metricsView(pool_.metrics(base::Clock::now()));
    const auto& gate = pool_.ephemeralGate();
    m.ephemeral_active = gate.active();
    m.ephemeral_concurrency_limit = gate.concurrency();
    m.ephemeral_rejected = gate.rejected();
    m.pool_size = config_.pool_size;
    m.in_flight_requests = dispatcher_.openCalls();
    m.pid = ::getpid();
    m.version = BUNTIME_VERSION;
    m.listen = listen_;
    m.supervisor_rss_bytes = rss;
    m.worker_rss_bytes = worker_rss;
    m.worker_spawn_seconds = host_.spawnMetrics().view();
    return m;
}

std::vector<admin::WorkerRow> CoreView::workers() {
    const auto snap = pool_.snapshot(base::Clock::now());
    std::vector<admin::WorkerRow> rows;
    rows.reserve(snap.workers.size() + snap.draining.size());
    auto add = [&](const pool::WorkerStats& s, bool draining) {
        auto row = admin::workerRow(s);
        if (draining) row.status = "draining";
        if (auto w = host_.live(s.id)) {
            row.pid = w->pid;
            if (!w->kind.empty()) row.kind = w->kind;
            row.rss_bytes = proc::rssBytes(w->pid).value_or(0);
            row.in_flight = dispatcher_.inFlight(s.id);
            row.ring = admin::WorkerRings{ringView(w->to_worker, w->ring_capacity, w->to_worker_used),
                                          ringView(w->to_supervisor, w->ring_capacity, w->to_supervisor_used)};
        }
        rows.push_back(std::move(row));
    };
    for (const auto& s : snap.workers) add(s, false);
    for (const auto& s : snap.draining) add(s, true);
    return rows;
}

std::vector<admin::AppRow> CoreView::apps() {
    const auto now = base::Clock::now();
    std::vector<admin::AppRow> out;
    for (const auto& app : router_.listApps()) {
        for (const auto& v : app.versions) {
            admin::AppRow row;
            row.name = app.name;
            row.version = v.version;
            row.dir = v.dir.string();
            row.layout = std::string(router::layoutName(v.layout));
            auto manifest = router_.config(v.dir, now);
            if (manifest) {
                const auto& config = manifest.value()->config;
                row.config = router::toJson(config);
                const auto entrypoint = config.entrypoint ? *config.entrypoint : proto::defaultEntrypoint(v.dir);
                row.entrypoint_kind = std::string(proto::toString(proto::kindOf(entrypoint, !config.command.empty())));
            } else {
                row.error = manifestError(manifest.error(), v.dir / "manifest.yaml");
            }
            if (!v.error.message.empty() && !row.error) row.error = manifestError(v.error, v.dir / "manifest.yaml");
            out.push_back(std::move(row));
        }
        for (const auto& e : app.errors) {
            admin::AppRow row;
            row.name = app.name;
            row.error = manifestError(e, {});
            out.push_back(std::move(row));
        }
    }
    return out;
}

std::optional<std::vector<admin::AppLogLineView>> CoreView::appLogs(std::string_view name, std::size_t tail) {
    if (!app_logs_) return std::nullopt;
    if (!app_logs_->has(name)) {
        // An app that printed nothing yet answers an empty list; an unknown name 404.
        bool known = false;
        for (const auto& app : router_.listApps()) known = known || app.name == name;
        if (!known) return std::nullopt;
    }
    std::vector<admin::AppLogLineView> out;
    for (const auto& line : app_logs_->tail(name, tail)) out.push_back(toJson(line).get<admin::AppLogLineView>());
    return out;
}

}  // namespace buntime::supervisor
