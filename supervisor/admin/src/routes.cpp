// SPDX-License-Identifier: MIT
// The admin API's route table, auth rule and replies (moved out of the supervisor core).
#include "buntime/admin/routes.h"

#include <exception>
#include <optional>

#include "buntime/admin/auth.h"
#include "buntime/admin/prometheus.h"
#include "buntime/base/ascii.h"
#include "buntime/base/log.h"

namespace buntime::admin {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4";
constexpr std::string_view kWorkersPrefix = "/_/api/workers/";
constexpr std::string_view kRetireSuffix = "/retire";

Reply jsonReply(unsigned status, const nlohmann::json& body) { return {status, std::string(kJson), dumpJson(body)}; }

Reply error(unsigned status, std::string code, std::string message) {
    return jsonReply(status, ErrorReply{std::move(code), std::move(message)});
}

bool isRetirePath(std::string_view path) { return path.starts_with(kWorkersPrefix) && path.ends_with(kRetireSuffix); }

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

AdminApi::AdminApi(SupervisorView& view, std::string admin_token) : view_(view), admin_token_(std::move(admin_token)) {}

bool AdminApi::isAdminPath(std::string_view target) noexcept { return target == "/_" || target.starts_with("/_/"); }

bool AdminApi::isLoopbackRemote(std::string_view remote) noexcept {
    return remote.empty() || remote.starts_with("127.") || remote.starts_with("[::1]:") ||
           remote.starts_with("[::ffff:127.");
}

std::optional<Reply> AdminApi::refuseRead(const Request& request) const {
    if (request.from_admin_socket) return std::nullopt;
    if (!admin_token_.empty()) {
        if (request.authorization && tokenMatches(*request.authorization, admin_token_)) return std::nullopt;
        return error(401, "UNAUTHORIZED", "missing or wrong bearer token");
    }
    if (isLoopbackRemote(request.remote)) return std::nullopt;
    return error(403, "FORBIDDEN",
                 "without RUNTIME_ADMIN_TOKEN the admin API answers only on loopback and the admin socket "
                 "(RUNTIME_ADMIN_SOCKET); set a token to use it over the network");
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
    if (get) {
        if (path == "/_/api/health" || path == "/_/health") return jsonReply(200, view_.health());
        if (path == "/_/api/health/live") return jsonReply(200, LiveView{});
        if (path == "/_/api/health/ready") {
            const bool ready = !view_.draining();
            return jsonReply(ready ? 200 : 503, ReadyView{ready});
        }
        const bool protected_read =
            path == "/_/api/metrics" || path == "/_/api/workers" || path == "/_/api/apps" || path == "/_/metrics";
        if (protected_read) {
            if (auto refused = refuseRead(request)) return std::move(*refused);
        }
        if (path == "/_/api/metrics") return jsonReply(200, view_.metrics());
        if (path == "/_/api/workers") return jsonReply(200, WorkersReply{view_.workers()});
        if (path == "/_/api/apps") return jsonReply(200, AppsReply{withoutEnvValues(view_.apps())});
        if (path == "/_/metrics")
            return {200, std::string(kPrometheusText), renderPrometheus(view_.metrics(), view_.workers())};
    }

    const bool mutating = path == "/_/api/reload" || isRetirePath(path);
    if (!mutating) return error(404, "NOT_FOUND", "no admin route " + std::string(path));
    if (request.method != "POST") return error(405, "METHOD_NOT_ALLOWED", "use POST");
    if (!request.from_admin_socket) {
        if (admin_token_.empty())
            return error(403, "FORBIDDEN",
                         "mutating admin calls are disabled: set RUNTIME_ADMIN_TOKEN or use the admin socket "
                         "(RUNTIME_ADMIN_SOCKET)");
        if (!request.authorization || !tokenMatches(*request.authorization, admin_token_))
            return error(401, "UNAUTHORIZED", "missing or wrong bearer token");
    }
    if (path == "/_/api/reload") {
        view_.reload();
        return jsonReply(200, ReloadedReply{});
    }
    return retire(path);
}

Reply AdminApi::retire(std::string_view path) {
    std::string_view raw = path.substr(kWorkersPrefix.size());
    // "/_/api/workers/retire": the prefix and the suffix share the '/'; the key is "retire".
    if (raw.size() >= kRetireSuffix.size()) raw.remove_suffix(kRetireSuffix.size());
    std::string key = base::percentDecode(raw).value_or(std::string(raw));
    if (!view_.retire(key)) return error(404, "NOT_FOUND", "no live worker " + key);
    base::logInfo("admin", "retiring worker " + key + " on request");
    return jsonReply(200, RetiredReply{key});
}

}  // namespace buntime::admin
