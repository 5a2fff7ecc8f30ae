// SPDX-License-Identifier: MIT
// Router facade: request target → app dir + WorkerConfig through the two TTL caches.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/router/cache.h"
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

    // Resolve a name/range directly (harness `direct` mode, admin), through the caches.
    Result<ResolvedApp> resolve(std::string_view name, std::string_view range, TimePoint now);
    Result<std::shared_ptr<const Manifest>> config(const std::filesystem::path& dir, TimePoint now);

    void clearCaches();  // SIGHUP reload
    std::vector<AppInfo> listApps() const { return resolver_.listApps(); }
    const Resolver& resolver() const noexcept { return resolver_; }
    const RouterOptions& options() const noexcept { return options_; }

private:
    RouterOptions options_;
    Resolver resolver_;
    ResolverCache resolver_cache_;
    ConfigCache config_cache_;
};

}  // namespace buntime::router
