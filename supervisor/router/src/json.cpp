// SPDX-License-Identifier: MIT
// nlohmann::json conversions of WorkerConfig, ResolvedApp and AppInfo.
#include "buntime/router/json.h"

namespace buntime::router {

nlohmann::json toJson(const WorkerConfig& c) {
    nlohmann::json routes = nlohmann::json::array();
    for (const auto& r : c.public_routes)
        routes.push_back({{"method", r.method.empty() ? "ALL" : r.method}, {"path", r.path}});
    nlohmann::json j = {
        {"name", c.name},
        {"version", c.version},
        {"entrypoint", c.entrypoint ? nlohmann::json(*c.entrypoint) : nlohmann::json(nullptr)},
        {"env", c.env},
        {"timeoutMs", c.timeout.count()},
        {"ttlMs", c.ttl.count()},
        {"idleTimeoutMs", c.idle_timeout.count()},
        {"maxRequests", c.max_requests},
        {"maxBodySize", c.max_body_size},
        {"lowMemory", c.low_memory},
        {"maxMemory", c.max_memory ? nlohmann::json(*c.max_memory) : nlohmann::json(nullptr)},
        {"cpuWeight", c.cpu_weight},
        {"injectBase", c.inject_base},
        {"publicRoutes", std::move(routes)},
        {"concurrency", c.concurrency},
        {"threads", c.threads},
        {"envPrefix", c.env_prefix},
        {"visibility", c.visibility},
        {"autoInstall", c.auto_install},
        {"ephemeral", c.ephemeral()},
    };
    return j;
}

nlohmann::json toJson(const ResolvedApp& a) {
    return {{"name", a.name},
            {"version", a.version},
            {"dir", a.dir.string()},
            {"key", a.key},
            {"layout", std::string(layoutName(a.layout))}};
}

nlohmann::json toJson(const AppInfo& app) {
    nlohmann::json versions = nlohmann::json::array();
    for (const auto& v : app.versions) {
        nlohmann::json jv = {
            {"version", v.version}, {"dir", v.dir.string()}, {"layout", std::string(layoutName(v.layout))}};
        if (!v.error.message.empty()) jv["error"] = v.error.message;
        versions.push_back(std::move(jv));
    }
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : app.errors) errors.push_back(e.message);
    return {{"name", app.name}, {"versions", std::move(versions)}, {"errors", std::move(errors)}};
}

nlohmann::json toJson(const std::vector<AppInfo>& apps) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& a : apps) out.push_back(toJson(a));
    return out;
}

}  // namespace buntime::router
