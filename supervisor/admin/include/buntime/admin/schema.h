// SPDX-License-Identifier: MIT
// The admin API's JSON schema: typed views of /_/api/{health,metrics,workers,apps} and of the
// small replies, with to_json/from_json. The only place that spells the JSON keys: the
// supervisor produces its answers with it, buntimectl and buntime-perf parse them with it,
// and tests/golden/admin/*.json are samples of it.
//
// Header-only (nlohmann + std + base/expected.h), so a client links nothing of the supervisor.
// from_json is strict: a missing key or a value of the wrong JSON type throws
// nlohmann::json::exception (extra keys are ignored); admin::parse<View>() returns an Expected
// instead. Every view is a plain value type: not thread-safe, cheap to copy.
#pragma once

#include <nlohmann/json.hpp>

#include <concepts>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "buntime/base/expected.h"

namespace buntime::admin {

// --- GET /_/api/health (and /_/health) ----------------------------------------------------

struct HealthView {
    bool ok = true;      // the seed's key: the process answers
    std::string status;  // "healthy" (the seed's word), or "draining" once shutdown began
    std::string version;
    std::int64_t pid = 0;
    std::int64_t uptime_ms = 0;
    std::string listen;  // "127.0.0.1:8000", or "systemd socket (1 fd)"
};

// --- GET /_/api/metrics -------------------------------------------------------------------

// How renderPrometheus exports a field: a counter (only grows), a gauge, or not at all.
enum class MetricKind { Counter, Gauge, Text };

// One bucket of a histogram: how many observations were <= le (cumulative, as in Prometheus).
struct BucketView {
    double le = 0;  // upper bound, seconds
    std::uint64_t count = 0;
};

// One series of the histogram buntime_worker_spawn_seconds: the time from the supervisor's
// decision to spawn a worker to the worker's ready message, for one spawn path and app kind.
struct SpawnSeriesView {
    std::string path;  // "exec" (a new process runs buntime-worker) or "fork" (from an app's zygote)
    std::string kind;  // the worker kind: so, exec, static, js, command
    std::uint64_t count = 0;
    double sum = 0;                   // seconds, all observations together
    std::vector<BucketView> buckets;  // ascending le; the +Inf bucket is `count`
};

struct MetricsView {
    // The seed's pool metrics (metricsView(pool::PoolMetrics) in pool_views.h fills these).
    std::uint64_t active_workers = 0;
    double avg_response_time_ms = 0;
    std::uint64_t evictions = 0;
    std::uint64_t ephemeral_concurrency = 0;
    std::uint64_t ephemeral_queue_depth = 0;
    std::uint64_t ephemeral_queue_limit = 0;
    double hit_rate = 0;  // percent, 0..100
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    double memory_usage_mb = 0;
    double requests_per_second = 0;  // started requests per second over the last 10 s
    // The seed's requestsPerSecond: totalRequests / uptime, the lifetime average.
    double requests_per_second_lifetime = 0;
    std::uint64_t total_requests = 0;
    std::uint64_t total_workers_created = 0;
    std::uint64_t total_workers_failed = 0;
    std::uint64_t total_workers_retired = 0;
    std::int64_t uptime_ms = 0;
    // Set by the supervisor core.
    std::uint64_t ephemeral_active = 0;
    std::uint64_t ephemeral_concurrency_limit = 0;
    std::uint64_t ephemeral_rejected = 0;
    std::uint64_t pool_size = 0;
    std::uint64_t in_flight_requests = 0;
    std::int64_t pid = 0;
    std::string version;
    std::string listen;
    std::uint64_t supervisor_rss_bytes = 0;
    std::uint64_t worker_rss_bytes = 0;
    // JSON "workerSpawnSeconds" (a histogram, so not in forEachMetric's table of numbers):
    // one series per (path, kind) that has spawned a worker, sorted by path then kind.
    std::vector<SpawnSeriesView> worker_spawn_seconds;
};

// Calls visit(key, field, kind) for every field of a (const) MetricsView, in key order (the
// order of the JSON object and of the Prometheus page). to_json, from_json and
// renderPrometheus all read this one table.
template <typename View, typename Visit>
requires std::same_as<std::remove_const_t<View>, MetricsView>
void forEachMetric(View& m, Visit&& visit) {
    using K = MetricKind;
    visit("activeWorkers", m.active_workers, K::Gauge);
    visit("avgResponseTimeMs", m.avg_response_time_ms, K::Gauge);
    visit("ephemeralActive", m.ephemeral_active, K::Gauge);
    visit("ephemeralConcurrency", m.ephemeral_concurrency, K::Gauge);
    visit("ephemeralConcurrencyLimit", m.ephemeral_concurrency_limit, K::Gauge);
    visit("ephemeralQueueDepth", m.ephemeral_queue_depth, K::Gauge);
    visit("ephemeralQueueLimit", m.ephemeral_queue_limit, K::Gauge);
    visit("ephemeralRejected", m.ephemeral_rejected, K::Gauge);
    visit("evictions", m.evictions, K::Counter);
    visit("hitRate", m.hit_rate, K::Gauge);
    visit("hits", m.hits, K::Counter);
    visit("inFlightRequests", m.in_flight_requests, K::Gauge);
    visit("listen", m.listen, K::Text);
    visit("memoryUsageMB", m.memory_usage_mb, K::Gauge);
    visit("misses", m.misses, K::Counter);
    visit("pid", m.pid, K::Gauge);
    visit("poolSize", m.pool_size, K::Gauge);
    visit("requestsPerSecond", m.requests_per_second, K::Gauge);
    visit("requestsPerSecondLifetime", m.requests_per_second_lifetime, K::Gauge);
    visit("supervisorRssBytes", m.supervisor_rss_bytes, K::Gauge);
    visit("totalRequests", m.total_requests, K::Counter);
    visit("totalWorkersCreated", m.total_workers_created, K::Counter);
    visit("totalWorkersFailed", m.total_workers_failed, K::Counter);
    visit("totalWorkersRetired", m.total_workers_retired, K::Counter);
    visit("uptimeMs", m.uptime_ms, K::Gauge);
    visit("version", m.version, K::Text);
    visit("workerRssBytes", m.worker_rss_bytes, K::Gauge);
}

// --- GET /_/api/workers -------------------------------------------------------------------

// One direction of a worker's shm ring (the core fills it from shm::RingStats).
struct RingView {
    std::uint64_t capacity = 0;
    std::uint64_t used = 0;
    std::uint64_t high_water = 0;
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t wakeups = 0;
    std::uint64_t spin_hits = 0;
    std::uint64_t sleeps = 0;
    std::uint64_t full_stalls = 0;
};

struct WorkerRings {
    RingView to_worker;      // requests
    RingView to_supervisor;  // responses
};

struct WorkerRow {
    std::string key;      // name@version
    std::string name;     // key before the last '@'
    std::string version;  // key after the last '@' ("" without one)
    std::string status;   // active|idle|ephemeral|offline, or draining (retired, still alive)
    std::string state;    // starting|ready|draining|dead
    std::int64_t age_ms = 0;
    std::int64_t idle_ms = 0;
    double avg_response_time_ms = 0;
    std::uint64_t error_count = 0;
    std::uint64_t request_count = 0;
    std::uint64_t in_flight = 0;
    // Set for a live worker process only; JSON null otherwise.
    std::optional<std::int64_t> pid;
    std::optional<std::uint64_t> rss_bytes;
    std::optional<WorkerRings> ring;
    // A live worker's kind: so, exec, static, js or command (proto::toString). Omitted from
    // the JSON when unknown.
    std::optional<std::string> kind;
};

struct WorkersReply {
    std::vector<WorkerRow> workers;  // pooled rows by key, then draining rows
};

// --- GET /_/api/apps ----------------------------------------------------------------------

// Where a manifest went wrong: the file, the manifest key at fault ("" when not one key).
struct ManifestError {
    std::string file;
    std::string key;
    std::string message;
};

// One version of an app found in RUNTIME_WORKER_DIRS, or an app-level error (version "",
// no dir and layout).
struct AppRow {
    std::string name;
    std::string version;
    std::optional<std::string> dir;              // absent on an app-level error row
    std::optional<std::string> layout;           // flat|nested|simple; present with dir
    std::optional<nlohmann::json> config;        // the effective manifest (router's keys) when it loads
    std::optional<std::string> entrypoint_kind;  // static|so|exec|none; present with config
    std::optional<ManifestError> error;          // JSON null when the version is fine
};

struct AppsReply {
    std::vector<AppRow> apps;
};

// GET /_/api/apps?format=bun (or RUNTIME_API_COMPAT=bun): the seed's shape, a bare array of
// these. `path` is the directory holding the versions (the app dir for nested and simple
// layouts, the worker root for flat ones); versions highest first.
struct BunAppInfo {
    std::string name;
    std::string path;
    std::vector<std::string> versions;
};

// --- GET /.well-known/buntime: where the runtime API lives (the seed's discovery) ----------

struct WellKnownView {
    std::string api;  // "/_/api", or RUNTIME_API_PREFIX + "/api"
    std::string version;
};

// --- small replies ------------------------------------------------------------------------

// The seed's health keys ok, status and version sit next to live / ready.
struct LiveView {  // GET /_/api/health/live
    bool live = true;
    bool ok = true;
    std::string status = "live";
    std::string version;
};
struct ReadyView {  // GET /_/api/health/ready: 200 when ready, 503 when draining
    bool ready = false;
    bool ok = false;          // = ready
    std::string status = {};  // "ready" or "draining"
    std::string version = {};
};
struct ReloadedReply {  // POST /_/api/reload
    bool reloaded = true;
};
struct RetiredReply {  // POST /_/api/workers/<key>/retire
    std::string retired;
};
// GET /_/api/apps/<name>/logs: one object per line of the body (application/x-ndjson), or
// per "data:" event with follow=1 (text/event-stream). A line cut at 16 KiB has "truncated":
// true (the key is absent otherwise).
struct AppLogLineView {
    std::string time;  // "2026-11-30T03:04:05.678Z", when the line was complete
    std::string app;
    std::string version;
    std::int64_t pid = 0;  // the worker process
    std::string stream;    // "stdout" or "stderr"
    std::string line;      // printable: control bytes and bytes of invalid UTF-8 as \xNN
    bool truncated = false;
};
struct DeployedReply {  // POST /_/api/apps (201)
    bool success = true;
    std::string name;
    std::string version;
    std::string dir;
    bool replaced = false;  // ?replace=1 swapped out an installed version (its workers drain)
};
struct RemovedReply {  // DELETE /_/api/apps/<name>[/<version>]
    bool success = true;
    std::string name;
    std::vector<std::string> versions;  // the versions removed
    std::uint64_t draining = 0;         // workers finishing their requests (0 with ?force=1)
    std::uint64_t killed = 0;           // workers stopped at once (?force=1)
};
struct AppReloadedReply {  // POST /_/api/apps/<name>/reload
    bool success = true;
    std::string name;
    std::uint64_t recycled = 0;  // workers recycled after their in-flight requests
};
// Every error answer: {"success": false, "code": CODE, "error": CODE, "message": TEXT} (the
// seed's success/code/message and the native error). Its from_json is lenient (a missing or
// non-string member reads as ""; code stands in for a missing error), because error bodies
// may come from a proxy or from the seed runtime.
struct ErrorReply {
    std::string error;
    std::string message;
};

namespace schema_detail {

[[noreturn]] inline void wrongType(const nlohmann::json& j, std::string_view key, const char* expected) {
    throw nlohmann::json::type_error::create(
        302, "key '" + std::string(key) + "': expected " + expected + ", got " + j.type_name(), &j);
}

// Reads j[key] into out, checking the JSON type against the C++ type (any number for a
// double, a non-negative integer for an unsigned field).
template <typename T>
void read(const nlohmann::json& j, std::string_view key, T& out) {
    const nlohmann::json& v = j.at(key);
    if constexpr (std::is_same_v<T, std::string>) {
        if (!v.is_string()) wrongType(v, key, "a string");
        out = v.get<std::string>();
    } else if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean()) wrongType(v, key, "a boolean");
        out = v.get<bool>();
    } else if constexpr (std::is_floating_point_v<T>) {
        if (!v.is_number()) wrongType(v, key, "a number");
        out = v.get<T>();
    } else if constexpr (std::is_unsigned_v<T>) {
        if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
            wrongType(v, key, "a non-negative integer");
        out = v.get<T>();
    } else if constexpr (std::is_integral_v<T>) {
        if (!v.is_number_integer()) wrongType(v, key, "an integer");
        out = v.get<T>();
    } else {
        out = v.get<T>();  // a view: its own from_json checks it
    }
}

// null ↔ nullopt.
template <typename T>
void read(const nlohmann::json& j, std::string_view key, std::optional<T>& out) {
    if (j.at(key).is_null()) {
        out.reset();
        return;
    }
    T value{};
    read(j, key, value);
    out = std::move(value);
}

// An absent key ↔ nullopt (null is not accepted).
template <typename T>
void readIfPresent(const nlohmann::json& j, std::string_view key, std::optional<T>& out) {
    if (!j.contains(key)) {
        out.reset();
        return;
    }
    T value{};
    read(j, key, value);
    out = std::move(value);
}

template <typename T>
nlohmann::json orNull(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

inline void requireObject(const nlohmann::json& j, const char* what) {
    if (!j.is_object())
        throw nlohmann::json::type_error::create(302, std::string(what) + ": expected an object, got " + j.type_name(),
                                                 &j);
}

}  // namespace schema_detail

// --- to_json / from_json (found by nlohmann through ADL) ----------------------------------

inline void to_json(nlohmann::json& j, const HealthView& v) {
    j = {{"ok", v.ok},   {"status", v.status},      {"version", v.version},
         {"pid", v.pid}, {"uptimeMs", v.uptime_ms}, {"listen", v.listen}};
}
inline void from_json(const nlohmann::json& j, HealthView& v) {
    using schema_detail::read;
    schema_detail::requireObject(j, "health");
    v.ok = true;
    if (j.contains("ok")) read(j, "ok", v.ok);
    read(j, "status", v.status);
    read(j, "version", v.version);
    read(j, "pid", v.pid);
    read(j, "uptimeMs", v.uptime_ms);
    read(j, "listen", v.listen);
}

inline void to_json(nlohmann::json& j, const BucketView& v) { j = {{"le", v.le}, {"count", v.count}}; }
inline void from_json(const nlohmann::json& j, BucketView& v) {
    schema_detail::requireObject(j, "bucket");
    schema_detail::read(j, "le", v.le);
    schema_detail::read(j, "count", v.count);
}

inline void to_json(nlohmann::json& j, const SpawnSeriesView& v) {
    j = {{"path", v.path}, {"kind", v.kind}, {"count", v.count}, {"sum", v.sum}, {"buckets", v.buckets}};
}
inline void from_json(const nlohmann::json& j, SpawnSeriesView& v) {
    using schema_detail::read;
    schema_detail::requireObject(j, "spawn series");
    read(j, "path", v.path);
    read(j, "kind", v.kind);
    read(j, "count", v.count);
    read(j, "sum", v.sum);
    if (!j.at("buckets").is_array()) schema_detail::wrongType(j.at("buckets"), "buckets", "an array");
    read(j, "buckets", v.buckets);
}

inline void to_json(nlohmann::json& j, const MetricsView& v) {
    j = nlohmann::json::object();
    forEachMetric(v, [&](const char* key, const auto& field, MetricKind) { j[key] = field; });
    j["workerSpawnSeconds"] = v.worker_spawn_seconds;
}
inline void from_json(const nlohmann::json& j, MetricsView& v) {
    schema_detail::requireObject(j, "metrics");
    forEachMetric(v, [&](const char* key, auto& field, MetricKind) { schema_detail::read(j, key, field); });
    if (!j.at("workerSpawnSeconds").is_array())
        schema_detail::wrongType(j.at("workerSpawnSeconds"), "workerSpawnSeconds", "an array");
    schema_detail::read(j, "workerSpawnSeconds", v.worker_spawn_seconds);
}

inline void to_json(nlohmann::json& j, const RingView& v) {
    j = {{"capacity", v.capacity},  {"used", v.used},     {"highWater", v.high_water},
         {"messages", v.messages},  {"bytes", v.bytes},   {"wakeups", v.wakeups},
         {"spinHits", v.spin_hits}, {"sleeps", v.sleeps}, {"fullStalls", v.full_stalls}};
}
inline void from_json(const nlohmann::json& j, RingView& v) {
    using schema_detail::read;
    schema_detail::requireObject(j, "ring");
    read(j, "capacity", v.capacity);
    read(j, "used", v.used);
    read(j, "highWater", v.high_water);
    read(j, "messages", v.messages);
    read(j, "bytes", v.bytes);
    read(j, "wakeups", v.wakeups);
    read(j, "spinHits", v.spin_hits);
    read(j, "sleeps", v.sleeps);
    read(j, "fullStalls", v.full_stalls);
}

inline void to_json(nlohmann::json& j, const WorkerRings& v) {
    j = {{"toWorker", v.to_worker}, {"toSupervisor", v.to_supervisor}};
}
inline void from_json(const nlohmann::json& j, WorkerRings& v) {
    schema_detail::requireObject(j, "ring");
    schema_detail::read(j, "toWorker", v.to_worker);
    schema_detail::read(j, "toSupervisor", v.to_supervisor);
}

inline void to_json(nlohmann::json& j, const WorkerRow& v) {
    using schema_detail::orNull;
    j = {{"key", v.key},
         {"name", v.name},
         {"version", v.version},
         {"status", v.status},
         {"state", v.state},
         {"ageMs", v.age_ms},
         {"idleMs", v.idle_ms},
         {"avgResponseTimeMs", v.avg_response_time_ms},
         {"errorCount", v.error_count},
         {"requestCount", v.request_count},
         {"inFlight", v.in_flight},
         {"pid", orNull(v.pid)},
         {"rssBytes", orNull(v.rss_bytes)},
         {"ring", orNull(v.ring)}};
    if (v.kind) j["kind"] = *v.kind;
}
inline void from_json(const nlohmann::json& j, WorkerRow& v) {
    using schema_detail::read;
    schema_detail::requireObject(j, "worker");
    read(j, "key", v.key);
    read(j, "name", v.name);
    read(j, "version", v.version);
    read(j, "status", v.status);
    read(j, "state", v.state);
    read(j, "ageMs", v.age_ms);
    read(j, "idleMs", v.idle_ms);
    read(j, "avgResponseTimeMs", v.avg_response_time_ms);
    read(j, "errorCount", v.error_count);
    read(j, "requestCount", v.request_count);
    read(j, "inFlight", v.in_flight);
    read(j, "pid", v.pid);
    read(j, "rssBytes", v.rss_bytes);
    read(j, "ring", v.ring);
    if (j.contains("kind") && j["kind"].is_string()) v.kind = j["kind"].get<std::string>();
}

inline void to_json(nlohmann::json& j, const WorkersReply& v) { j = {{"workers", v.workers}}; }
inline void from_json(const nlohmann::json& j, WorkersReply& v) {
    schema_detail::requireObject(j, "workers reply");
    schema_detail::read(j, "workers", v.workers);
}

inline void to_json(nlohmann::json& j, const ManifestError& v) {
    j = {{"file", v.file}, {"key", v.key}, {"message", v.message}};
}
inline void from_json(const nlohmann::json& j, ManifestError& v) {
    using schema_detail::read;
    schema_detail::requireObject(j, "error");
    read(j, "file", v.file);
    read(j, "key", v.key);
    read(j, "message", v.message);
}

inline void to_json(nlohmann::json& j, const AppRow& v) {
    j = {{"name", v.name}, {"version", v.version}, {"error", schema_detail::orNull(v.error)}};
    if (v.dir) j["dir"] = *v.dir;
    if (v.layout) j["layout"] = *v.layout;
    if (v.config) j["config"] = *v.config;
    if (v.entrypoint_kind) j["entrypointKind"] = *v.entrypoint_kind;
}
inline void from_json(const nlohmann::json& j, AppRow& v) {
    using schema_detail::read;
    using schema_detail::readIfPresent;
    schema_detail::requireObject(j, "app");
    read(j, "name", v.name);
    read(j, "version", v.version);
    read(j, "error", v.error);
    readIfPresent(j, "dir", v.dir);
    readIfPresent(j, "layout", v.layout);
    v.config.reset();
    if (j.contains("config")) {
        schema_detail::requireObject(j.at("config"), "config");
        v.config = j.at("config");
    }
    readIfPresent(j, "entrypointKind", v.entrypoint_kind);
}

inline void to_json(nlohmann::json& j, const AppsReply& v) { j = {{"apps", v.apps}}; }

inline void to_json(nlohmann::json& j, const BunAppInfo& v) {
    j = {{"name", v.name}, {"path", v.path}, {"versions", v.versions}};
}
inline void from_json(const nlohmann::json& j, BunAppInfo& v) {
    using schema_detail::read;
    schema_detail::requireObject(j, "app");
    read(j, "name", v.name);
    read(j, "path", v.path);
    v.versions.clear();
    const auto& versions = j.at("versions");
    if (!versions.is_array()) schema_detail::wrongType(versions, "versions", "an array");
    for (const auto& item : versions) {
        if (!item.is_string()) schema_detail::wrongType(item, "versions", "an array of strings");
        v.versions.push_back(item.get<std::string>());
    }
}

inline void to_json(nlohmann::json& j, const WellKnownView& v) { j = {{"api", v.api}, {"version", v.version}}; }
inline void from_json(const nlohmann::json& j, WellKnownView& v) {
    schema_detail::requireObject(j, "well-known");
    schema_detail::read(j, "api", v.api);
    schema_detail::read(j, "version", v.version);
}
inline void from_json(const nlohmann::json& j, AppsReply& v) {
    schema_detail::requireObject(j, "apps reply");
    schema_detail::read(j, "apps", v.apps);
}

inline void to_json(nlohmann::json& j, const LiveView& v) {
    j = {{"live", v.live}, {"ok", v.ok}, {"status", v.status}, {"version", v.version}};
}
inline void from_json(const nlohmann::json& j, LiveView& v) {
    schema_detail::read(j, "live", v.live);
    v.ok = v.live;
    if (j.contains("ok")) schema_detail::read(j, "ok", v.ok);
    if (j.contains("status")) schema_detail::read(j, "status", v.status);
    if (j.contains("version")) schema_detail::read(j, "version", v.version);
}

inline void to_json(nlohmann::json& j, const ReadyView& v) {
    j = {{"ready", v.ready}, {"ok", v.ok}, {"status", v.status}, {"version", v.version}};
}
inline void from_json(const nlohmann::json& j, ReadyView& v) {
    schema_detail::read(j, "ready", v.ready);
    v.ok = v.ready;
    if (j.contains("ok")) schema_detail::read(j, "ok", v.ok);
    if (j.contains("status")) schema_detail::read(j, "status", v.status);
    if (j.contains("version")) schema_detail::read(j, "version", v.version);
}

inline void to_json(nlohmann::json& j, const ReloadedReply& v) { j = {{"reloaded", v.reloaded}}; }
inline void from_json(const nlohmann::json& j, ReloadedReply& v) { schema_detail::read(j, "reloaded", v.reloaded); }

inline void to_json(nlohmann::json& j, const RetiredReply& v) { j = {{"retired", v.retired}}; }
inline void from_json(const nlohmann::json& j, RetiredReply& v) { schema_detail::read(j, "retired", v.retired); }

inline void to_json(nlohmann::json& j, const AppLogLineView& v) {
    j = {{"time", v.time}, {"app", v.app},       {"version", v.version},
         {"pid", v.pid},   {"stream", v.stream}, {"line", v.line}};
    if (v.truncated) j["truncated"] = true;
}
inline void from_json(const nlohmann::json& j, AppLogLineView& v) {
    schema_detail::read(j, "time", v.time);
    schema_detail::read(j, "app", v.app);
    schema_detail::read(j, "version", v.version);
    schema_detail::read(j, "pid", v.pid);
    schema_detail::read(j, "stream", v.stream);
    schema_detail::read(j, "line", v.line);
    v.truncated = j.contains("truncated") && j.at("truncated").is_boolean() && j.at("truncated").get<bool>();
}
inline void to_json(nlohmann::json& j, const DeployedReply& v) {
    j = {{"success", v.success}, {"name", v.name}, {"version", v.version}, {"dir", v.dir}, {"replaced", v.replaced}};
}
inline void from_json(const nlohmann::json& j, DeployedReply& v) {
    schema_detail::read(j, "success", v.success);
    schema_detail::read(j, "name", v.name);
    schema_detail::read(j, "version", v.version);
    schema_detail::read(j, "dir", v.dir);
    schema_detail::read(j, "replaced", v.replaced);
}

inline void to_json(nlohmann::json& j, const RemovedReply& v) {
    j = {{"success", v.success},
         {"name", v.name},
         {"versions", v.versions},
         {"draining", v.draining},
         {"killed", v.killed}};
}
inline void from_json(const nlohmann::json& j, RemovedReply& v) {
    schema_detail::read(j, "success", v.success);
    schema_detail::read(j, "name", v.name);
    schema_detail::read(j, "versions", v.versions);
    schema_detail::read(j, "draining", v.draining);
    schema_detail::read(j, "killed", v.killed);
}

inline void to_json(nlohmann::json& j, const AppReloadedReply& v) {
    j = {{"success", v.success}, {"name", v.name}, {"recycled", v.recycled}};
}
inline void from_json(const nlohmann::json& j, AppReloadedReply& v) {
    schema_detail::read(j, "success", v.success);
    schema_detail::read(j, "name", v.name);
    schema_detail::read(j, "recycled", v.recycled);
}

inline void to_json(nlohmann::json& j, const ErrorReply& v) {
    j = {{"success", false}, {"code", v.error}, {"error", v.error}, {"message", v.message}};
}
inline void from_json(const nlohmann::json& j, ErrorReply& v) {
    auto text = [&](const char* key) {
        const auto it = j.is_object() ? j.find(key) : j.end();
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    v.error = text("error");
    if (v.error.empty()) v.error = text("code");
    v.message = text("message");
}

// The view in `doc`, or why it does not match the schema (the key and the type at fault).
template <typename View>
base::Expected<View, std::string> parse(const nlohmann::json& doc) noexcept {
    try {
        return doc.get<View>();
    } catch (const std::exception& e) {
        return std::string(e.what());
    }
}

// The exact text the supervisor sends for a view: compact, and invalid UTF-8 in a string
// (an app name, a path, a message) replaced by U+FFFD instead of throwing.
inline std::string dumpJson(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace buntime::admin
