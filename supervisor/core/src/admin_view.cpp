// SPDX-License-Identifier: MIT
// Admin routes and JSON views of the supervisor.
#include "admin_view.h"

#include <unistd.h>

#include "build_info.h"
#include "buntime/admin/prometheus.h"
#include "buntime/base/log.h"
#include "buntime/proc/rss.h"
#include "buntime/proto/launch.h"
#include "buntime/router/json.h"
#include "replies.h"

namespace buntime::supervisor {
namespace {

using json = nlohmann::json;

json ringJson(const shm::RingStats& c, std::size_t capacity, std::size_t used) {
    return json{{"capacity", capacity},    {"used", used},       {"highWater", c.high_water},
                {"messages", c.messages},  {"bytes", c.bytes},   {"wakeups", c.wakeups},
                {"spinHits", c.spin_hits}, {"sleeps", c.sleeps}, {"fullStalls", c.full_stalls}};
}

json statsJson(const pool::WorkerStats& s) {
    auto at = s.key.rfind('@');
    return json{{"key", s.key},
                {"name", at == std::string::npos ? s.key : s.key.substr(0, at)},
                {"version", at == std::string::npos ? "" : s.key.substr(at + 1)},
                {"status", pool::toString(s.status)},
                {"state", pool::toString(s.state)},
                {"ageMs", s.age_ms},
                {"idleMs", s.idle_ms},
                {"avgResponseTimeMs", s.avg_response_time_ms},
                {"errorCount", s.error_count},
                {"requestCount", s.request_count},
                {"inFlight", s.in_flight},
                {"pid", nullptr},
                {"rssBytes", nullptr},
                {"ring", nullptr}};
}

json manifestErrorJson(const router::Error& e, const std::filesystem::path& fallback_file) {
    return json{{"file", e.file.empty() ? fallback_file.string() : e.file}, {"key", e.key}, {"message", e.message}};
}

}  // namespace

AdminView::AdminView(const SupervisorConfig& config, router::Router& router, pool::WorkerPool& pool,
                     Dispatcher& dispatcher, AsioWorkerHost& host, Hooks hooks)
    : config_(config), router_(router), pool_(pool), dispatcher_(dispatcher), host_(host), hooks_(std::move(hooks)) {}

void AdminView::serve(const std::shared_ptr<Client>& client) {
    const auto& head = client->head();
    const std::string_view path = head.path();
    auto reply = [&](unsigned status, const json& body) { client->respond(status, jsonHeaders(), body.dump()); };
    const bool get = head.method == "GET" || head.method == "HEAD";
    const bool draining = hooks_.draining();
    if (get && (path == "/_/api/health" || path == "/_/health")) return reply(200, health());
    if (get && path == "/_/api/health/live") return reply(200, json{{"live", true}});
    if (get && path == "/_/api/health/ready") return reply(draining ? 503 : 200, json{{"ready", !draining}});
    if (get && path == "/_/api/metrics") return reply(200, metrics());
    if (get && path == "/_/api/workers") return reply(200, json{{"workers", workers()}});
    if (get && path == "/_/api/apps") return reply(200, json{{"apps", apps()}});
    if (get && path == "/_/metrics")
        return client->respond(200, {{"content-type", "text/plain; version=0.0.4"}},
                               admin::renderPrometheus(metrics(), workers()));

    const bool mutating = path == "/_/api/reload" || (path.starts_with("/_/api/workers/") && path.ends_with("/retire"));
    if (!mutating) return reply(404, json{{"error", "NOT_FOUND"}, {"message", "no admin route " + std::string(path)}});
    if (head.method != "POST") return reply(405, json{{"error", "METHOD_NOT_ALLOWED"}, {"message", "use POST"}});
    if (!head.from_admin_socket) {
        if (config_.admin_token.empty())
            return reply(403, json{{"error", "FORBIDDEN"},
                                   {"message",
                                    "mutating admin calls are disabled: set RUNTIME_ADMIN_TOKEN or use "
                                    "the admin socket (RUNTIME_ADMIN_SOCKET)"}});
        const std::string* auth = head.find("authorization");
        if (!auth || !admin::tokenMatches(*auth, config_.admin_token))
            return reply(401, json{{"error", "UNAUTHORIZED"}, {"message", "missing or wrong bearer token"}});
    }
    if (path == "/_/api/reload") {
        hooks_.reload();
        return reply(200, json{{"reloaded", true}});
    }
    std::string key(path.substr(std::string_view("/_/api/workers/").size()));
    key = key.substr(0, key.size() - std::string_view("/retire").size());
    if (auto decoded = router::percentDecode(key)) key = *decoded;
    if (!retire(key)) return reply(404, json{{"error", "NOT_FOUND"}, {"message", "no live worker " + key}});
    reply(200, json{{"retired", key}});
}

bool AdminView::retire(std::string_view key) {
    auto id = host_.livePooledWorker(key);
    if (!id) return false;
    base::logInfo("admin", "retiring worker " + std::string(key) + " on request");
    const auto now = base::Clock::now();
    dispatcher_.apply(pool_.markUnhealthy(*id, now), now);
    return true;
}

json AdminView::health() const {
    return json{
        {"status", hooks_.draining() ? "draining" : "ok"},
        {"version", BUNTIME_VERSION},
        {"pid", ::getpid()},
        {"uptimeMs", std::chrono::duration_cast<std::chrono::milliseconds>(base::Clock::now() - started_at_).count()},
        {"listen", listen_}};
}

json AdminView::metrics() {
    const auto now = base::Clock::now();
    const auto rss = proc::selfRssBytes().value_or(0);
    std::uint64_t worker_rss = 0;
    for (int pid : host_.livePids()) worker_rss += proc::rssBytes(pid).value_or(0);
    pool_.setMemoryUsageMB(static_cast<double>(rss) / (1024.0 * 1024.0));
    const auto m = pool_.metrics(now);
    const auto& gate = pool_.ephemeralGate();
    return json{{"activeWorkers", m.active_workers},
                {"avgResponseTimeMs", m.avg_response_time_ms},
                {"evictions", m.evictions},
                {"ephemeralConcurrency", m.ephemeral_concurrency},
                {"ephemeralQueueDepth", m.ephemeral_queue_depth},
                {"ephemeralQueueLimit", m.ephemeral_queue_limit},
                {"hitRate", m.hit_rate},
                {"hits", m.hits},
                {"misses", m.misses},
                {"memoryUsageMB", m.memory_usage_mb},
                {"requestsPerSecond", m.requests_per_second},
                {"totalRequests", m.total_requests},
                {"totalWorkersCreated", m.total_workers_created},
                {"totalWorkersFailed", m.total_workers_failed},
                {"totalWorkersRetired", m.total_workers_retired},
                {"uptimeMs", m.uptime_ms},
                {"ephemeralActive", gate.active()},
                {"ephemeralConcurrencyLimit", gate.concurrency()},
                {"ephemeralRejected", gate.rejected()},
                {"poolSize", config_.pool_size},
                {"inFlightRequests", dispatcher_.openCalls()},
                {"pid", ::getpid()},
                {"version", BUNTIME_VERSION},
                {"listen", listen_},
                {"supervisorRssBytes", rss},
                {"workerRssBytes", worker_rss}};
}

json AdminView::workers() const {
    const auto snap = pool_.snapshot(base::Clock::now());
    json rows = json::array();
    auto add = [&](json row, pool::WorkerId id) {
        if (auto w = host_.live(id)) {
            row["pid"] = w->pid;
            row["rssBytes"] = proc::rssBytes(w->pid).value_or(0);
            row["inFlight"] = dispatcher_.inFlight(id);
            row["ring"] = json{{"toWorker", ringJson(w->to_worker, w->ring_capacity, w->to_worker_used)},
                               {"toSupervisor", ringJson(w->to_supervisor, w->ring_capacity, w->to_supervisor_used)}};
        }
        rows.push_back(std::move(row));
    };
    for (const auto& s : snap.workers) add(statsJson(s), s.id);
    for (const auto& s : snap.draining) {
        auto row = statsJson(s);
        row["status"] = "draining";
        add(std::move(row), s.id);
    }
    return rows;
}

json AdminView::apps() const {
    const auto now = base::Clock::now();
    json out = json::array();
    for (const auto& app : router_.listApps()) {
        for (const auto& v : app.versions) {
            json row{{"name", app.name},
                     {"version", v.version},
                     {"dir", v.dir.string()},
                     {"layout", router::layoutName(v.layout)},
                     {"error", nullptr}};
            auto manifest = router_.config(v.dir, now);
            if (manifest) {
                row["config"] = router::toJson(manifest.value()->config);
                const auto& ep = manifest.value()->config.entrypoint;
                row["entrypointKind"] =
                    proto::toString(proto::entrypointKindOf(ep ? *ep : proto::defaultEntrypoint(v.dir)));
            } else {
                row["error"] = manifestErrorJson(manifest.error(), v.dir / "manifest.yaml");
            }
            if (!v.error.message.empty() && row["error"].is_null())
                row["error"] = manifestErrorJson(v.error, v.dir / "manifest.yaml");
            out.push_back(std::move(row));
        }
        for (const auto& e : app.errors)
            out.push_back(json{{"name", app.name}, {"version", ""}, {"error", manifestErrorJson(e, {})}});
    }
    return out;
}

}  // namespace buntime::supervisor
