// SPDX-License-Identifier: MIT
// Sensitive-name patterns and the merge of inherited and manifest environments.
#include "buntime/router/env_filter.h"

#include <algorithm>
#include <unordered_set>

#include "buntime/base/ascii.h"

namespace buntime::router {

bool isSensitiveEnvName(std::string_view name) noexcept {
    static constexpr std::string_view prefixes[] = {"DATABASE_", "DB_",        "AWS_",   "GITHUB_",
                                                    "OPENAI_",   "ANTHROPIC_", "STRIPE_"};
    static constexpr std::string_view suffixes[] = {"_TOKEN", "_SECRET", "_PASSWORD"};
    static constexpr std::string_view infixes[] = {"API_KEY", "AUTH_KEY", "SECRET_KEY", "PRIVATE_KEY"};
    std::string n = base::toUpper(name);
    if (n == "RUNTIME_ADMIN_TOKEN") return true;
    for (auto p : prefixes)
        if (n.starts_with(p)) return true;
    for (auto s : suffixes)
        if (n.ends_with(s)) return true;
    for (auto i : infixes)
        if (n.find(i) != std::string::npos) return true;
    return false;
}

WorkerEnv buildWorkerEnv(const std::vector<std::string>& inherited,
                         const std::map<std::string, std::string>& manifest_env) {
    WorkerEnv out;
    std::unordered_set<std::string> seen;
    for (const auto& kv : inherited) {
        std::size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        std::string name = kv.substr(0, eq);
        if (manifest_env.contains(name)) continue;  // the manifest's value wins (appended below)
        if (name == "PORT") continue;               // the supervisor's own port is no app's business
        if (isSensitiveEnvName(name)) {
            if (std::find(out.dropped.begin(), out.dropped.end(), name) == out.dropped.end())
                out.dropped.push_back(std::move(name));
            continue;
        }
        if (!seen.insert(std::move(name)).second) continue;  // duplicates: the first wins, as getenv() would see it
        out.env.push_back(kv);
    }
    for (const auto& [name, value] : manifest_env) {
        out.env.push_back(name + '=' + value);
        if (isSensitiveEnvName(name)) out.sensitive_kept.push_back(name);
    }
    return out;
}

WorkerEnv buildWorkerEnv(const char* const* envp, const std::map<std::string, std::string>& manifest_env) {
    std::vector<std::string> inherited;
    for (; envp != nullptr && *envp != nullptr; ++envp) inherited.emplace_back(*envp);
    return buildWorkerEnv(inherited, manifest_env);
}

}  // namespace buntime::router
