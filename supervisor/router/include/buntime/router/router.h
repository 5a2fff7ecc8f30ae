// SPDX-License-Identifier: MIT
// Router facade: request target → app dir + WorkerConfig through the two TTL caches.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/router/cache.h"
#include "buntime/router/host_index.h"
#include "buntime/router/manifest.h"
#include "buntime/router/path.h"
#include "buntime/router/resolver.h"

namespace buntime::router {

// Filled by the supervisor from its configuration (supervisor/core parses the environment).
struct RouterOptions {
    std::vector<std::filesystem::path> roots;            // RUNTIME_WORKER_DIRS
    std::chrono::milliseconds config_cache_ttl{1000};    // RUNTIME_WORKER_CONFIG_CACHE_TTL_MS
    std::chrono::milliseconds resolver_cache_ttl{1000};  // RUNTIME_WORKER_RESOLVER_CACHE_TTL_MS
    std::string reserved_root = "/_";                    // RUNTIME_API_PREFIX's reserved path (admin::reservedRoot)
    // Where warnings go (the supervisor logs them): a worker directory that is missing, a
    // host claimed by two apps, a loaded manifest's warnings (once per file version).
    std::function<void(const std::string&)> warn = {};
};

enum class RouteStatus : std::uint8_t {
    Ok,           // 200-path: app, manifest set
    Reserved,     // reserved_root (/_), under it, or /.well-known/…: the caller serves it (admin)
    BadRequest,   // 400
    NotFound,     // 404: no app / no matching version
    ServerError,  // 500: collision, broken manifest, unreadable file
};

struct Route {
    RouteStatus status = RouteStatus::NotFound;
    int http_status = 404;  // 200 for Ok and Reserved (the caller decides), else as above
    std::string message;    // for logs and the error body
    ParsedTarget target;
    ResolvedApp app;                           // Ok only
    std::shared_ptr<const Manifest> manifest;  // Ok only; config + warnings
};

// Owns a Resolver and both caches. route() and listApps() are thread-safe.
class Router {
public:
    explicit Router(RouterOptions options);

    Route route(std::string_view target, TimePoint now);
    // With the request's Host header: a host in the index (see HostIndex) serves its app at
    // "/" (parseHostTarget; the unversioned route's version, i.e. the latest), any other host
    // routes by path as route(target, now).
    Route route(std::string_view target, std::string_view host, TimePoint now);

    // Resolve a name/range directly (harness `direct` mode, admin), through the caches.
    Result<ResolvedApp> resolve(std::string_view name, std::string_view range, TimePoint now);
    Result<std::shared_ptr<const Manifest>> config(const std::filesystem::path& dir, TimePoint now);

    // SIGHUP reload: also re-reads the worker directories for reloadHosts().
    void clearCaches();
    // Rebuilds the virtual-host index from the manifest of each app's latest version (one
    // scan of the worker directories; the constructor and clearCaches() call it) and warns
    // about missing worker directories and host collisions. Requests keep being served
    // from the old index until the new one is swapped in.
    void reloadHosts();
    std::shared_ptr<const HostIndex> hosts() const;
    std::vector<AppInfo> listApps() const { return resolver_.listApps(); }
    const Resolver& resolver() const noexcept { return resolver_; }
    const RouterOptions& options() const noexcept { return options_; }

private:
    // The status of a parsed target; an app target is resolved to a version.
    Route routeParsed(ParsedTarget target, TimePoint now);
    Route resolveTarget(Route r, TimePoint now);
    void warn(const std::string& message) const {
        if (options_.warn) options_.warn(message);
    }

    RouterOptions options_;
    Resolver resolver_;
    ResolverCache resolver_cache_;
    ConfigCache config_cache_;
    mutable std::mutex hosts_mutex_;
    std::shared_ptr<const HostIndex> hosts_;
};

}  // namespace buntime::router
