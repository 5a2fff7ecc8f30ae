// SPDX-License-Identifier: MIT
// The admin API's route table, auth rule and replies (moved out of the supervisor core).
#include "buntime/admin/routes.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <optional>

#include "buntime/admin/auth.h"
#include "buntime/admin/compat_views.h"
#include "buntime/admin/prometheus.h"
#include "buntime/base/ascii.h"
#include "buntime/base/log.h"

namespace buntime::admin {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4";
constexpr std::string_view kRetireSuffix = "/retire";
constexpr std::string_view kWellKnown = "/.well-known/buntime";
constexpr std::string_view kAppsPrefix = "/apps/";
constexpr std::string_view kLogsSuffix = "/logs";
constexpr std::size_t kDefaultLogTail = 200;
constexpr std::size_t kMaxLogTail = 1000000;

Reply jsonReply(unsigned status, const nlohmann::json& body) { return {status, std::string(kJson), dumpJson(body)}; }

Reply error(unsigned status, std::string code, std::string message) {
    return jsonReply(status, ErrorReply{std::move(code), std::move(message)});
}

// The value of `name` in an application/x-www-form-urlencoded query; "" when absent.
std::string_view queryValue(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
            return pair.substr(name.size() + 1);
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return {};
}

bool under(std::string_view path, std::string_view root) {
    return path == root || (path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/');
}

// Manifest env values are secrets as often as not: the admin API shows their names only.
std::vector<AppRow> withoutEnvValues(std::vector<AppRow> rows) {
    for (auto& row : rows) {
        if (!row.config || !row.config->is_object()) continue;
        auto env = row.config->find("env");
        if (env == row.config->end() || !env->is_object()) continue;
        for (auto& [name, value] : env->items()) value = "(hidden)";
    }
    return rows;
}

}  // namespace

AdminApi::AdminApi(SupervisorView& view, std::string admin_token, AdminOptions options)
    : AdminApi(view, std::move(admin_token), std::move(options), {}) {}

AdminApi::AdminApi(SupervisorView& view, std::string admin_token, AdminOptions options, std::vector<ApiKey> keys)
    : view_(view),
      admin_token_(std::move(admin_token)),
      options_(std::move(options)),
      api_(apiPath(options_.api_prefix)),
      root_(reservedRoot(options_.api_prefix)),
      workers_prefix_(api_ + "/workers/"),
      apps_prefix_(api_ + "/apps/") {
    keys_.addToken(admin_token_);
    for (auto& key : keys) keys_.add(std::move(key));
}

bool AdminApi::isAdminPath(std::string_view target) noexcept { return target == "/_" || target.starts_with("/_/"); }

bool AdminApi::isLoopbackRemote(std::string_view remote) noexcept {
    return remote.empty() || remote.starts_with("127.") || remote.starts_with("[::1]:") ||
           remote.starts_with("[::ffff:127.");
}

std::optional<Reply> AdminApi::refuseRead(const Request& request) const { return authorize(request, Role::Viewer); }

std::optional<Reply> AdminApi::authorize(const Request& request, Role needed, std::string* who) const {
    if (request.from_admin_socket) {
        if (who) *who = "admin socket";
        return std::nullopt;
    }
    if (keys_.empty()) {
        if (needed == Role::Viewer) {
            if (isLoopbackRemote(request.remote)) {
                if (who) *who = "loopback";
                return std::nullopt;
            }
            return error(403, "FORBIDDEN",
                         "without RUNTIME_ADMIN_TOKEN the admin API answers only on loopback and the admin socket "
                         "(RUNTIME_ADMIN_SOCKET); set a token to use it over the network");
        }
        return error(403, "FORBIDDEN",
                     "mutating admin calls are disabled: set RUNTIME_ADMIN_TOKEN or use the admin socket "
                     "(RUNTIME_ADMIN_SOCKET)");
    }
    const ApiKey* key = keys_.match(request.authorization);
    if (key == nullptr) return error(401, "UNAUTHORIZED", "missing or wrong bearer token");
    if (key->role < needed)
        return error(403, "FORBIDDEN",
                     "key '" + key->name + "' has role " + std::string(roleName(key->role)) + "; this call needs " +
                         std::string(roleName(needed)));
    if (who) *who = "key '" + key->name + "'";
    return std::nullopt;
}

bool AdminApi::isUpload(const Request& request) const noexcept {
    return request.method == "POST" && request.path == api_ + "/apps";
}

bool AdminApi::answers(std::string_view target) const noexcept {
    const std::string_view path = target.substr(0, target.find('?'));
    return path == kWellKnown || under(path, root_);
}

Reply AdminApi::handle(const Request& request) noexcept {
    try {
        return route(request);
    } catch (const std::exception& e) {
        base::logFormat(base::LogLevel::Error, "admin", "admin request failed: %s", e.what());
    } catch (...) {
        base::logError("admin", "admin request failed");
    }
    try {
        return error(500, "INTERNAL_ERROR", "the admin request failed");
    } catch (...) {
        return Reply{500, std::string(kJson), {}};
    }
}

Reply AdminApi::route(const Request& request) {
    const std::string_view path = request.path;
    const bool get = request.method == "GET" || request.method == "HEAD";
    const std::string_view sub = path.starts_with(api_) ? path.substr(api_.size()) : std::string_view("\n");
    if (get) {
        if (path == kWellKnown) return jsonReply(200, WellKnownView{api_, view_.health().version});
        if (sub == "/health" || path == root_ + "/health") return jsonReply(200, view_.health());
        if (sub == "/health/live") {
            LiveView live;
            live.version = view_.health().version;
            return jsonReply(200, live);
        }
        if (sub.starts_with(kAppsPrefix) && sub.ends_with(kLogsSuffix) &&
            sub.size() > kAppsPrefix.size() + kLogsSuffix.size()) {
            if (auto refused = refuseRead(request)) return std::move(*refused);
            return logs(sub.substr(kAppsPrefix.size(), sub.size() - kAppsPrefix.size() - kLogsSuffix.size()),
                        request.query);
        }
        const bool protected_read = sub == "/metrics" || sub == "/workers" || sub == "/apps" ||
                                    sub == "/metrics/prometheus" || path == root_ + "/metrics";
        if (protected_read) {
            if (auto refused = refuseRead(request)) return std::move(*refused);
        }
        if (sub == "/health/ready") {
            const bool ready = !view_.draining();
            return jsonReply(ready ? 200 : 503,
                             ReadyView{ready, ready, ready ? "ready" : "draining", view_.health().version});
        }
        if (sub == "/metrics") return jsonReply(200, view_.metrics());
        if (sub == "/workers") return jsonReply(200, WorkersReply{view_.workers()});
        if (sub == "/apps") return apps(request.query);
        if (sub == "/metrics/prometheus" || path == root_ + "/metrics")
            return {200, std::string(kPrometheusText), renderPrometheus(view_.metrics(), view_.workers())};
    }

    if (path.starts_with(apps_prefix_)) {
        const std::string_view rest = path.substr(apps_prefix_.size());
        constexpr std::string_view kReload = "/reload";
        if (rest.ends_with(kReload) && rest.size() > kReload.size() &&
            rest.substr(0, rest.size() - kReload.size()).find('/') == std::string_view::npos) {
            if (request.method != "POST") return error(405, "METHOD_NOT_ALLOWED", "use POST");
            return reloadApp(request, rest.substr(0, rest.size() - kReload.size()));
        }
        if (request.method == "DELETE") return removeApp(request, rest);
    }
    if (isUpload(request)) {  // normally taken by the core before handle(): it reads the body
        if (auto refused = authorize(request, Role::Deployer)) return std::move(*refused);
        return error(501, "NOT_IMPLEMENTED", "this supervisor cannot install apps");
    }

    const bool is_retire = path.starts_with(workers_prefix_) && path.ends_with(kRetireSuffix);
    const bool mutating = sub == "/reload" || is_retire;
    if (!mutating) return error(404, "NOT_FOUND", "no admin route " + std::string(path));
    if (request.method != "POST") return error(405, "METHOD_NOT_ALLOWED", "use POST");
    std::string who;
    if (auto refused = authorize(request, Role::Admin, &who)) return std::move(*refused);
    if (sub == "/reload") {
        base::logInfo("admin", "reload requested by " + who);
        view_.reload();
        return jsonReply(200, ReloadedReply{});
    }
    return retire(path);
}

Reply AdminApi::removeApp(const Request& request, std::string_view rest) {
    std::string who;
    if (auto refused = authorize(request, Role::Deployer, &who)) return std::move(*refused);
    const auto slash = rest.find('/');
    const std::string name = base::percentDecode(rest.substr(0, slash)).value_or("");
    const std::string version =
        slash == std::string_view::npos ? std::string() : base::percentDecode(rest.substr(slash + 1)).value_or("");
    if (name.empty() || (slash != std::string_view::npos && version.empty()) ||
        version.find('/') != std::string::npos || name.find('/') != std::string::npos)
        return error(400, "BAD_REQUEST", "use DELETE <api>/apps/<name> or <api>/apps/<name>/<version>");
    const bool force = queryValue(request.query, "force") == "1";
    auto outcome = view_.removeApp(name, version, force);
    if (outcome.status != 200) return error(outcome.status, std::move(outcome.code), std::move(outcome.message));
    base::logInfo("admin", "removed " + name + (version.empty() ? "" : "@" + version) + " on request by " + who +
                               (force ? " (forced)" : ""));
    return jsonReply(200, outcome.removed);
}

Reply AdminApi::reloadApp(const Request& request, std::string_view raw_name) {
    std::string who;
    if (auto refused = authorize(request, Role::Admin, &who)) return std::move(*refused);
    const std::string name = base::percentDecode(raw_name).value_or(std::string(raw_name));
    auto recycled = view_.reloadApp(name);
    if (!recycled) return error(404, "NOT_FOUND", "no app named \"" + name + "\"");
    base::logInfo("admin", "reload of " + name + " requested by " + who + ": " + std::to_string(*recycled) +
                               " worker(s) recycled");
    return jsonReply(200, AppReloadedReply{true, name, *recycled});
}

Reply AdminApi::retire(std::string_view path) {
    std::string_view raw = path.substr(workers_prefix_.size());
    // "/_/api/workers/retire": the prefix and the suffix share the '/'; the key is "retire".
    if (raw.size() >= kRetireSuffix.size()) raw.remove_suffix(kRetireSuffix.size());
    std::string key = base::percentDecode(raw).value_or(std::string(raw));
    if (!view_.retire(key)) return error(404, "NOT_FOUND", "no live worker " + key);
    base::logInfo("admin", "retiring worker " + key + " on request");
    return jsonReply(200, RetiredReply{key});
}

Reply AdminApi::apps(std::string_view query) {
    const std::string_view format = queryValue(query, "format");
    bool bun = options_.bun_apps;
    if (format == "bun") {
        bun = true;
    } else if (format == "native") {
        bun = false;
    } else if (!format.empty()) {
        return error(400, "BAD_REQUEST", "unknown format \"" + std::string(format) + "\" (bun or native)");
    }
    if (bun) return jsonReply(200, bunApps(view_.apps()));
    return jsonReply(200, AppsReply{withoutEnvValues(view_.apps())});
}

Reply AdminApi::logs(std::string_view raw_name, std::string_view query) {
    const auto name = base::percentDecode(raw_name);
    if (!name || name->empty() || name->find('/') != std::string::npos)
        return error(404, "NOT_FOUND", "no admin route for that app name");
    std::size_t tail = kDefaultLogTail;
    if (const std::string_view text = queryValue(query, "tail"); !text.empty()) {
        std::size_t parsed = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
        if (ec != std::errc{} || end != text.data() + text.size())
            return error(400, "BAD_REQUEST", "tail must be a number of lines (0 or more)");
        tail = std::min(parsed, kMaxLogTail);
    }
    const std::string_view follow = queryValue(query, "follow");
    if (!follow.empty() && follow != "0" && follow != "1" && follow != "true" && follow != "false")
        return error(400, "BAD_REQUEST", "follow must be 1 or 0");
    auto lines = view_.appLogs(*name, tail);
    if (!lines) return error(404, "NOT_FOUND", "no app named " + *name);
    if (follow == "1" || follow == "true") {
        Reply reply{200, "text/event-stream", {}};
        reply.follow = LogFollow{*name, tail};
        return reply;
    }
    std::string body;
    for (const auto& line : *lines) {
        body += dumpJson(line);
        body += '\n';
    }
    return {200, "application/x-ndjson", std::move(body)};
}

}  // namespace buntime::admin
