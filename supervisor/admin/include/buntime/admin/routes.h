// SPDX-License-Identifier: MIT
// The admin API without HTTP and without the core: the route table of /_/api/* and
// /_/metrics, the auth rule for mutating calls, and every reply body. The core adapts its
// HTTP request to a Request, answers with the Reply, and implements SupervisorView.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/admin/auth.h"
#include "buntime/admin/schema.h"

namespace buntime::admin {

struct Request {
    std::string_view method;                     // "GET", "HEAD", "POST", ...
    std::string_view path;                       // the target without its query string
    const std::string* authorization = nullptr;  // the Authorization header; null when absent
    bool from_admin_socket = false;              // accepted on RUNTIME_ADMIN_SOCKET
    // The peer: "ip:port" or "[ipv6]:port" over TCP, "unix" on the app socket. Empty: an
    // in-process caller (tests, direct mode), trusted like loopback.
    std::string_view remote = {};
    std::string_view query = {};  // after '?', "" without one (format=bun)
};

// GET <api>/apps/<name>/logs?follow=1: the caller streams the app's lines as server-sent
// events (the admin API answers whole bodies only; the core owns the connection).
struct LogFollow {
    std::string app;
    std::size_t tail = 0;  // lines of the ring sent before the live ones
};

struct Reply {
    unsigned status = 200;
    std::string content_type;  // "application/json", or the Prometheus text type
    std::string body;
    std::optional<LogFollow> follow = {};  // set: stream instead of sending `body`
};

// What the admin API reads and changes; the supervisor core implements it. AdminApi calls
// it only from handle(), so on whatever thread calls handle(): the core loop.
class SupervisorView {
public:
    virtual ~SupervisorView() = default;
    virtual HealthView health() = 0;
    virtual MetricsView metrics() = 0;
    virtual std::vector<WorkerRow> workers() = 0;  // pooled rows by key, then draining rows
    virtual std::vector<AppRow> apps() = 0;
    virtual bool draining() const = 0;  // shutdown began: /_/api/health/ready answers 503
    virtual void reload() = 0;          // what SIGHUP does
    // Retires the live pooled (not ephemeral, not exiting) worker with this name@version;
    // false when there is none.
    virtual bool retire(std::string_view key) = 0;
    // The last `tail` output lines of the app `name` (oldest first); nullopt when no app has
    // that name. Default: no app keeps logs.
    virtual std::optional<std::vector<AppLogLineView>> appLogs(std::string_view /*name*/, std::size_t /*tail*/) {
        return std::nullopt;
    }

    // The deploy API. The defaults answer 501 (a view without a deploy service).
    struct RemoveOutcome {
        unsigned status = 501;  // 200, 404 (absent), 500 (could not move the files)
        std::string code = "NOT_IMPLEMENTED";
        std::string message = "this supervisor cannot remove apps";
        RemovedReply removed;  // status 200
    };
    // Removes one version (`version` non-empty) or every version of an app: its directories
    // leave the router at once, its workers drain (or are killed with `force`), the files go
    // once they have exited.
    virtual RemoveOutcome removeApp(std::string_view name, std::string_view version, bool force) {
        (void)name, (void)version, (void)force;
        return {};
    }
    // Recycles the pooled workers of every version of `name` after their requests; the
    // number recycled, or nullopt when no such app is installed nor running.
    virtual std::optional<std::size_t> reloadApp(std::string_view name) {
        (void)name;
        return std::nullopt;
    }
};

// Where the API lives and which apps shape it answers by default (RUNTIME_API_PREFIX,
// RUNTIME_API_COMPAT). The routes below are written for the default prefix "/_": with prefix P
// "/_/api" is P + "/api" (apiPath) and "/_" is reservedRoot(P).
struct AdminOptions {
    std::string api_prefix = "/_";  // already parsed by parseApiPrefix (compat_views.h)
    bool bun_apps = false;          // RUNTIME_API_COMPAT=bun: GET <api>/apps answers the seed's shape
};

// Routes (GET includes HEAD):
//   GET  /.well-known/buntime              200 WellKnownView {api, version} (the seed's discovery)
//   GET  /_/api/health, /_/health          200 HealthView
//   GET  /_/api/health/live                200 LiveView
//   GET  /_/api/health/ready               200 / 503 (draining) ReadyView
//   GET  /_/api/metrics                    200 MetricsView
//   GET  /_/api/workers                    200 WorkersReply
//   GET  /_/api/apps                       200 AppsReply; ?format=bun (or bun_apps) a bare array
//                                          of BunAppInfo, ?format=native the AppsReply
//   GET  /_/metrics, /_/api/metrics/prometheus  200 Prometheus text (only the second when the
//                                          two would clash: prefix "", API at /api)
//   GET  /_/api/apps/<name>/logs           200 the app's last output lines (?tail=N, default 200)
//                                          as application/x-ndjson, one AppLogLineView a line;
//                                          ?follow=1: Reply::follow set (server-sent events);
//                                          404 for an unknown app, 400 for a bad tail
//   POST /_/api/reload                     200 ReloadedReply
//   POST /_/api/workers/<key>/retire       200 RetiredReply, 404 when no live worker has the
//                                          (percent-decoded) key
//   POST /_/api/apps                       201 DeployedReply: an app archive (the core serves it:
//                                          isUpload() and authorize(Deployer), then the upload)
//   DELETE /_/api/apps/<name>[/<version>]  200 RemovedReply, 404 when absent; ?force=1 kills
//   POST /_/api/apps/<name>/reload         200 AppReloadedReply, 404 when the app is unknown
// Roles (RUNTIME_API_KEYS_FILE; RUNTIME_ADMIN_TOKEN is an admin key; the admin socket is
// admin): reads need viewer, deploy and remove need deployer, reload, app reload and retire
// need admin. A known key with a lower role: 403 FORBIDDEN; no key or an unknown one: 401.
// Any other path (other /.well-known/... too) 404 NOT_FOUND; a mutating path with another
// method 405 METHOD_NOT_ALLOWED. The health probes (health, live, ready) and /.well-known/buntime
// are open to every peer. The other reads need the admin socket, or "Authorization: Bearer
// <token>" when a token is configured (401 otherwise), or, with no token configured, a loopback
// peer (403 otherwise). A mutating call needs the admin socket, or the bearer token (compared in
// constant time): 403 FORBIDDEN when no token is configured, 401 UNAUTHORIZED when it is missing
// or wrong. <api>/apps never carries env values: each manifest env value reads "(hidden)".
// Errors are ErrorReply bodies.
//
// Not thread-safe: one instance, used on the core loop. Holds a reference to `view`, which
// must outlive it.
class AdminApi {
public:
    // An empty `admin_token` disables mutating calls over TCP.
    AdminApi(SupervisorView& view, std::string admin_token, AdminOptions options = {});
    // `keys`: RUNTIME_API_KEYS_FILE, accepted beside the admin token (itself an admin key).
    AdminApi(SupervisorView& view, std::string admin_token, AdminOptions options, std::vector<ApiKey> keys);

    // True for the targets the admin API answers with the default prefix: "/_" and "/_/..."
    // (give the raw request target; other reserved paths such as "/.well-known/..." are not
    // admin paths).
    static bool isAdminPath(std::string_view target) noexcept;
    // True for "127.x.y.z:port", "[::1]:port", "[::ffff:127.x.y.z]:port" and "" (in-process).
    static bool isLoopbackRemote(std::string_view remote) noexcept;
    // The same for this instance's prefix, plus "/.well-known/buntime" (query ignored).
    bool answers(std::string_view target) const noexcept;

    // The reply for one request. Never throws: a failure inside becomes a 500 reply.
    Reply handle(const Request& request) noexcept;

    // POST <api>/apps: an upload, which the core reads and installs off the loop.
    bool isUpload(const Request& request) const noexcept;
    // The refusal (401, 403) of `request` for a call that needs `needed`, or nullopt when it
    // may go on; `who` (when given) receives the key's name for the logs ("admin socket",
    // "loopback" without keys). Keys are never logged.
    std::optional<Reply> authorize(const Request& request, Role needed, std::string* who = nullptr) const;

private:
    Reply route(const Request& request);
    // The refusal of a protected read, or nullopt when `request` may read.
    std::optional<Reply> refuseRead(const Request& request) const;
    Reply retire(std::string_view path);
    Reply apps(std::string_view query);
    Reply logs(std::string_view name, std::string_view query);
    Reply removeApp(const Request& request, std::string_view rest);
    Reply reloadApp(const Request& request, std::string_view name);

    SupervisorView& view_;
    std::string admin_token_;
    AdminOptions options_;
    std::string api_;             // "/_/api"
    std::string root_;            // "/_"
    std::string workers_prefix_;  // "/_/api/workers/"
    std::string apps_prefix_;     // "/_/api/apps/"
    KeyRing keys_;                // the admin token and the keys file
};

}  // namespace buntime::admin
