// SPDX-License-Identifier: MIT
// Router facade: parse the target, resolve through the cache, load the config through the cache.
#include "buntime/router/router.h"

namespace buntime::router {

Router::Router(RouterOptions options)
    : options_(std::move(options)),
      resolver_(options_.roots),
      resolver_cache_(resolver_, options_.resolver_cache_ttl),
      config_cache_(options_.config_cache_ttl, options_.warn) {
    reloadHosts();
}

Result<ResolvedApp> Router::resolve(std::string_view name, std::string_view range, TimePoint now) {
    return resolver_cache_.resolve(name, range, now);
}

Result<std::shared_ptr<const Manifest>> Router::config(const std::filesystem::path& dir, TimePoint now) {
    return config_cache_.get(dir, now);
}

void Router::clearCaches() {
    resolver_cache_.clear();
    config_cache_.clear();
    reloadHosts();
}

std::shared_ptr<const HostIndex> Router::hosts() const {
    std::lock_guard lock(hosts_mutex_);
    return hosts_;
}

void Router::reloadHosts() {
    for (const auto& root : options_.roots) {
        std::error_code ec;
        if (!std::filesystem::is_directory(root, ec))
            warn("worker directory " + root.string() + " (RUNTIME_WORKER_DIRS) " +
                 (std::filesystem::exists(root, ec) ? "is not a directory" : "does not exist") +
                 ": no app is served from it");
        else if (std::filesystem::directory_iterator it(root, ec); ec)
            warn("worker directory " + root.string() + " (RUNTIME_WORKER_DIRS) cannot be read: " + ec.message());
    }
    auto index = std::make_shared<HostIndex>();
    for (const auto& name : resolver_.appNames()) {  // sorted: the first name keeps a contested host
        auto app = resolver_.resolve(name, "");
        if (!app) continue;  // the error is the app's, reported when it is requested (and by check)
        auto m = loadAppManifest(app->dir);
        if (!m) continue;
        config_cache_.warnOnce(app->dir, *m);
        index->add(name, m->config.hosts);
    }
    for (const auto& c : index->collisions())
        warn("host '" + c.pattern + "' is claimed by apps " + c.winner + " and " + c.loser + "; " + c.winner +
             " serves it (the name that sorts first)");
    std::lock_guard lock(hosts_mutex_);
    hosts_ = std::move(index);
}

Route Router::route(std::string_view target, std::string_view host, TimePoint now) {
    if (!host.empty()) {
        auto index = hosts();
        if (const std::string* app = index ? index->match(host) : nullptr)
            return routeParsed(parseHostTarget(target, *app, options_.reserved_root), now);
    }
    return route(target, now);
}

Route Router::route(std::string_view target, TimePoint now) {
    return routeParsed(parseTarget(target, options_.reserved_root), now);
}

Route Router::routeParsed(ParsedTarget target, TimePoint now) {
    Route r;
    r.target = std::move(target);
    switch (r.target.kind) {
    case TargetKind::Reserved:
        r.status = RouteStatus::Reserved;
        r.http_status = 200;
        return r;
    case TargetKind::BadRequest:
        r.status = RouteStatus::BadRequest;
        r.http_status = 400;
        r.message = r.target.error;
        return r;
    case TargetKind::NotFound:
        r.status = RouteStatus::NotFound;
        r.http_status = 404;
        r.message = "no app named in the path; use /<app>/...";
        return r;
    case TargetKind::App: break;
    }
    return resolveTarget(std::move(r), now);
}

Route Router::resolveTarget(Route r, TimePoint now) {
    auto fail = [&](const Error& e) {
        r.message = e.message;
        switch (e.code) {
        case ErrorCode::NotFound:
        case ErrorCode::NoMatch:
            r.status = RouteStatus::NotFound;
            r.http_status = 404;
            break;
        case ErrorCode::InvalidName:
        case ErrorCode::InvalidValue:
            r.status = RouteStatus::BadRequest;
            r.http_status = 400;
            break;
        default:
            r.status = RouteStatus::ServerError;
            r.http_status = 500;
            break;
        }
        return r;
    };
    // The seed answers a range that does not parse as it answers no match: 404 (APP_NOT_FOUND).
    if (auto range = Range::parse(r.target.range); !range) {
        r.status = RouteStatus::NotFound;
        r.http_status = 404;
        r.message = "app \"" + r.target.app + "\" not found: " + range.error().message;
        return r;
    }
    auto app = resolver_cache_.resolve(r.target.app, r.target.range, now);
    if (!app) return fail(app.error());
    auto manifest = config_cache_.get(app->dir, now);
    if (!manifest) {
        Error e = manifest.error();
        if (e.code == ErrorCode::InvalidValue) e.code = ErrorCode::BadManifest;  // a bad manifest is the server's fault
        return fail(e);
    }
    r.status = RouteStatus::Ok;
    r.http_status = 200;
    r.app = std::move(app.value());
    r.manifest = std::move(manifest.value());
    return r;
}

}  // namespace buntime::router
