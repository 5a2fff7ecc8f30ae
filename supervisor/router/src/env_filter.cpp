// SPDX-License-Identifier: MIT
// Sensitive-name and -value patterns, the RUNTIME_WORKER_ENV policy, and the merge of
// inherited and manifest environments.
#include "buntime/router/env_filter.h"

#include <algorithm>
#include <unordered_set>

#include "buntime/base/ascii.h"

namespace buntime::router {
namespace {

bool isNameChar(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool isSchemeChar(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
           c == '.';
}

// True when `upper` (an upper-cased name) matches a pattern: exact, or "PREFIX*".
bool matches(const std::vector<std::string>& patterns, std::string_view upper) {
    for (const auto& p : patterns) {
        if (!p.empty() && p.back() == '*') {
            if (upper.starts_with(std::string_view(p).substr(0, p.size() - 1))) return true;
        } else if (upper == p) {
            return true;
        }
    }
    return false;
}

}  // namespace

bool isSensitiveEnvName(std::string_view name) noexcept {
    static constexpr std::string_view prefixes[] = {"DATABASE_", "DB_",        "AWS_",   "GITHUB_",
                                                    "OPENAI_",   "ANTHROPIC_", "STRIPE_"};
    // AWS_ names that hold no secret (regions, profiles, CA bundle paths): passing them keeps
    // SDKs working without their keys.
    static constexpr std::string_view aws_harmless[] = {"AWS_REGION",          "AWS_DEFAULT_REGION", "AWS_PROFILE",
                                                        "AWS_DEFAULT_PROFILE", "AWS_CA_BUNDLE",      "AWS_CONFIG_FILE",
                                                        "AWS_SDK_LOAD_CONFIG", "AWS_DEFAULT_OUTPUT", "AWS_PAGER",
                                                        "AWS_MAX_ATTEMPTS",    "AWS_RETRY_MODE"};
    static constexpr std::string_view suffixes[] = {"_TOKEN", "_SECRET",     "_PASSWORD", "_PASSWD",     "_PWD",
                                                    "_PASS",  "_PASSPHRASE", "_DSN",      "_CREDENTIALS"};
    static constexpr std::string_view infixes[] = {"API_KEY", "AUTH_KEY", "SECRET_KEY", "PRIVATE_KEY", "ACCESS_KEY"};
    // Connection strings under their usual names; they carry passwords more often than not.
    static constexpr std::string_view exact[] = {
        "RUNTIME_ADMIN_TOKEN", "PGPASSWORD",    "PGPASSFILE",        "MYSQL_PWD",     "REDIS_URL",    "REDISCLOUD_URL",
        "REDIS_TLS_URL",       "MONGO_URL",     "MONGODB_URI",       "MONGO_URI",     "MONGODB_URL",  "AMQP_URL",
        "RABBITMQ_URL",        "CLOUDAMQP_URL", "ELASTICSEARCH_URL", "MEMCACHED_URL", "POSTGRES_URL", "MYSQL_URL"};
    std::string n = base::toUpper(name);
    for (auto e : exact)
        if (n == e) return true;
    for (auto p : prefixes) {
        if (!n.starts_with(p)) continue;
        if (p == "AWS_" && std::find(std::begin(aws_harmless), std::end(aws_harmless), n) != std::end(aws_harmless))
            continue;
        return true;
    }
    for (auto s : suffixes)
        if (n.ends_with(s)) return true;
    for (auto i : infixes)
        if (n.find(i) != std::string::npos) return true;
    return false;
}

bool isSensitiveEnvValue(std::string_view value) noexcept {
    for (std::size_t at = value.find("://"); at != std::string_view::npos; at = value.find("://", at + 3)) {
        // A scheme: at least one scheme character right before "://", starting with a letter.
        std::size_t start = at;
        while (start > 0 && isSchemeChar(value[start - 1])) --start;
        while (start < at &&
               !((value[start] >= 'A' && value[start] <= 'Z') || (value[start] >= 'a' && value[start] <= 'z')))
            ++start;
        if (start == at) continue;
        // The authority ends at '/', '?', '#' or whitespace; userinfo is before its last '@'.
        const std::size_t auth = at + 3;
        std::size_t end = auth;
        while (end < value.size() && value[end] != '/' && value[end] != '?' && value[end] != '#' && value[end] != ' ' &&
               value[end] != ',' && value[end] != ';')
            ++end;
        const auto authority = value.substr(auth, end - auth);
        const auto at_sign = authority.rfind('@');
        if (at_sign == std::string_view::npos) continue;
        const auto userinfo = authority.substr(0, at_sign);
        const auto colon = userinfo.find(':');
        if (colon != std::string_view::npos && colon + 1 < userinfo.size()) return true;  // a non-empty password
    }
    return false;
}

std::optional<EnvPolicy> EnvPolicy::parse(std::string_view spec) {
    EnvPolicy policy;
    std::string_view list;
    const auto colon = spec.find(':');
    const auto mode = base::toLower(spec.substr(0, colon));
    if (mode == "deny" || (mode.empty() && colon == std::string_view::npos)) {
        policy.mode = Mode::Deny;
    } else if (mode == "allow") {
        policy.mode = Mode::Allow;
    } else {
        return std::nullopt;
    }
    if (colon == std::string_view::npos) return policy;
    list = spec.substr(colon + 1);
    while (!list.empty()) {
        const auto comma = list.find(',');
        auto item = base::trim(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (item.empty()) continue;  // "allow:PATH,,LANG" or a trailing comma
        auto body = item.ends_with('*') ? item.substr(0, item.size() - 1) : item;
        if (body.empty() || !std::all_of(body.begin(), body.end(), isNameChar)) return std::nullopt;
        policy.names.push_back(base::toUpper(item));
    }
    return policy;
}

std::string EnvPolicy::describe() const {
    std::string out = mode == Mode::Allow ? "allow" : "deny (default patterns";
    if (mode == Mode::Deny && !names.empty()) out += " plus";
    for (std::size_t i = 0; i < names.size(); ++i)
        out += (i == 0 ? (mode == Mode::Allow ? ": " : " ") : ", ") + names[i];
    if (mode == Mode::Deny) out += ")";
    if (mode == Mode::Allow && names.empty()) out += ": nothing inherited";
    return out;
}

WorkerEnv buildWorkerEnv(const std::vector<std::string>& inherited,
                         const std::map<std::string, std::string>& manifest_env, const EnvPolicy& policy) {
    WorkerEnv out;
    std::unordered_set<std::string> seen;
    auto drop = [&out](std::string name) {
        if (std::find(out.dropped.begin(), out.dropped.end(), name) == out.dropped.end())
            out.dropped.push_back(std::move(name));
    };
    for (const auto& kv : inherited) {
        std::size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        std::string name = kv.substr(0, eq);
        if (manifest_env.contains(name)) continue;  // the manifest's value wins (appended below)
        if (name == "PORT") continue;               // the supervisor's own port is no app's business
        const std::string_view value = std::string_view(kv).substr(eq + 1);
        const bool sensitive = isSensitiveEnvName(name) || isSensitiveEnvValue(value);
        const bool listed = matches(policy.names, base::toUpper(name));
        const bool pass = policy.mode == EnvPolicy::Mode::Allow ? listed : !sensitive && !listed;
        if (!pass) {
            if (sensitive || policy.mode == EnvPolicy::Mode::Deny) drop(std::move(name));
            continue;
        }
        if (!seen.insert(std::move(name)).second) continue;  // duplicates: the first wins, as getenv() would see it
        out.env.push_back(kv);
    }
    for (const auto& [name, value] : manifest_env) {
        out.env.push_back(name + '=' + value);
        if (isSensitiveEnvName(name) || isSensitiveEnvValue(value)) out.sensitive_kept.push_back(name);
    }
    return out;
}

WorkerEnv buildWorkerEnv(const char* const* envp, const std::map<std::string, std::string>& manifest_env,
                         const EnvPolicy& policy) {
    std::vector<std::string> inherited;
    for (; envp != nullptr && *envp != nullptr; ++envp) inherited.emplace_back(*envp);
    return buildWorkerEnv(inherited, manifest_env, policy);
}

}  // namespace buntime::router
