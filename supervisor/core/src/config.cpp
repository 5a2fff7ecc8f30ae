// SPDX-License-Identifier: MIT
// Environment → SupervisorConfig, with the seed's defaults and warnings for bad values.
#include "buntime/supervisor/config.h"

#include "buntime/admin/compat_views.h"
#include "buntime/http/client_address.h"
#include "buntime/router/env_filter.h"
#include "buntime/router/manifest.h"
#include "buntime/router/units.h"

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <map>
#include <string_view>

extern char** environ;

namespace buntime::supervisor {
namespace {

using Env = std::map<std::string, std::string, std::less<>>;

// Where a value that does not parse goes: `errors` when the caller refuses them (the
// supervisor's start, `buntime check`), else `warnings` with the default kept.
struct Issues {
    std::vector<std::string>& warnings;
    std::vector<std::string>* errors;

    // `what` is "NAME=\"value\" is invalid (expected ...)"; `fallback` the default kept.
    void invalid(std::string what, const std::string& fallback) {
        if (errors)
            errors->push_back(std::move(what));
        else
            warnings.push_back(std::move(what) + "; using " + fallback);
    }
    void push_back(std::string warning) { warnings.push_back(std::move(warning)); }
};

template <typename T>
void readNumber(const Env& env, std::string_view name, T& out, T min, T max, Issues& issues) {
    auto it = env.find(name);
    if (it == env.end() || it->second.empty()) return;
    T value{};
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || p != s.data() + s.size() || value < min || value > max) {
        issues.invalid(std::string(name) + "=\"" + s + "\" is invalid (expected an integer in [" + std::to_string(min) +
                           ", " + std::to_string(max) + "])",
                       std::to_string(out));
        return;
    }
    out = value;
}

void readMs(const Env& env, std::string_view name, std::chrono::milliseconds& out, Issues& warnings) {
    long long v = out.count();
    readNumber<long long>(env, name, v, 0, 365LL * 24 * 3600 * 1000, warnings);
    out = std::chrono::milliseconds(v);
}

std::string get(const Env& env, std::string_view name, std::string fallback = {}) {
    auto it = env.find(name);
    return it == env.end() ? fallback : it->second;
}

}  // namespace

std::vector<std::string> currentEnvironment() {
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
    return out;
}

SupervisorConfig configFromEnv(const std::vector<std::string>& entries, std::vector<std::string>& warnings) {
    return configFromEnv(entries, warnings, nullptr);
}

SupervisorConfig configFromEnv(const std::vector<std::string>& entries, std::vector<std::string>& warning_list,
                               std::vector<std::string>* errors) {
    Issues warnings{warning_list, errors};
    Env env;
    for (const auto& e : entries) {
        auto eq = e.find('=');
        if (eq != std::string::npos) env.emplace(e.substr(0, eq), e.substr(eq + 1));
    }
    SupervisorConfig c;
    int port = c.port;
    readNumber<int>(env, "PORT", port, 0, 65535, warnings);
    c.port = static_cast<std::uint16_t>(port);
    c.bind = get(env, "RUNTIME_BIND", c.bind);
    std::string dirs = get(env, "RUNTIME_WORKER_DIRS");
    std::size_t start = 0;
    while (start <= dirs.size() && !dirs.empty()) {
        auto colon = dirs.find(':', start);
        auto part = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (!part.empty()) c.worker_dirs.push_back(part);
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    c.node_env = get(env, "NODE_ENV");
    if (!c.node_env.empty()) {
        // The seed's pool-size defaults by environment (its config.ts poolDefaults).
        static const std::map<std::string, std::size_t, std::less<>> kPoolDefaults = {
            {"development", 10}, {"production", 500}, {"staging", 50}, {"test", 5}};
        if (auto it = kPoolDefaults.find(c.node_env); it != kPoolDefaults.end())
            c.pool_size = it->second;
        else
            warnings.push_back("NODE_ENV=\"" + c.node_env +
                               "\" is not one of development, production, staging, test; pool size default " +
                               std::to_string(c.pool_size));
    }
    readNumber<std::size_t>(env, "RUNTIME_POOL_SIZE", c.pool_size, 1, 100000, warnings);
    readNumber<unsigned>(env, "RUNTIME_EPHEMERAL_CONCURRENCY", c.ephemeral_concurrency, 1, 10000, warnings);
    if (get(env, "RUNTIME_EPHEMERAL_QUEUE_LIMIT") == "0")  // the seed reads only positive values
        warnings.push_back("RUNTIME_EPHEMERAL_QUEUE_LIMIT=0 is ignored, as in the seed runtime; using " +
                           std::to_string(c.ephemeral_queue_limit));
    else
        readNumber<unsigned>(env, "RUNTIME_EPHEMERAL_QUEUE_LIMIT", c.ephemeral_queue_limit, 1, 1000000, warnings);
    readMs(env, "RUNTIME_WORKER_CONFIG_CACHE_TTL_MS", c.config_cache_ttl, warnings);
    readMs(env, "RUNTIME_WORKER_RESOLVER_CACHE_TTL_MS", c.resolver_cache_ttl, warnings);
    auto level = get(env, "RUNTIME_LOG_LEVEL");
    if (!level.empty()) {
        auto parsed = base::parseLogLevel(level);
        if (!parsed)
            warnings.invalid("RUNTIME_LOG_LEVEL=\"" + level + "\" is invalid (debug|info|warn|error|off)", "info");
        else
            c.log_level = *parsed;
    }
    c.access_log = get(env, "RUNTIME_ACCESS_LOG", c.access_log);
    if (c.access_log.empty()) c.access_log = "stderr";
    c.admin_token = get(env, "RUNTIME_ADMIN_TOKEN");
    c.admin_socket = get(env, "RUNTIME_ADMIN_SOCKET");
    c.api_keys_file = get(env, "RUNTIME_API_KEYS_FILE");
    readNumber<std::uint64_t>(env, "RUNTIME_DEPLOY_MAX_UPLOAD", c.deploy_max_upload, 1024, std::uint64_t(1) << 32,
                              warnings);
    c.unix_socket = get(env, "RUNTIME_UNIX_SOCKET");
    c.state_dir = get(env, "RUNTIME_STATE_DIR");
    c.worker_binary = get(env, "RUNTIME_WORKER_BINARY");
    readNumber<unsigned>(env, "RUNTIME_EVENT_LOOPS", c.event_loops, 1, 256, warnings);
    readNumber<std::size_t>(env, "RUNTIME_RING_BYTES", c.ring_bytes, 4096, std::size_t(1) << 30, warnings);
    readNumber<std::size_t>(env, "RUNTIME_MAX_CONNECTIONS", c.max_connections, 1, 10000000, warnings);
    readNumber<std::size_t>(env, "RUNTIME_MAX_CONNECTIONS_PER_IP", c.max_connections_per_ip, 0, 10000000, warnings);
    readMs(env, "RUNTIME_BODY_TIMEOUT_MS", c.body_timeout, warnings);
    if (c.body_timeout.count() == 0) c.body_timeout = std::chrono::milliseconds(60000);
    readNumber<std::uint64_t>(env, "RUNTIME_BODY_MIN_RATE", c.body_min_rate, 0, std::uint64_t(1) << 40, warnings);
    readMs(env, "RUNTIME_WORKER_PING_MS", c.worker_ping, warnings);
    readNumber<std::size_t>(env, "RUNTIME_APP_LOG_LINES", c.app_log_lines, 1, 1000000, warnings);
    readMs(env, "RUNTIME_HEADER_TIMEOUT_MS", c.header_timeout, warnings);
    readMs(env, "RUNTIME_KEEPALIVE_TIMEOUT_MS", c.keepalive_timeout, warnings);
    readMs(env, "RUNTIME_SHUTDOWN_TIMEOUT_MS", c.shutdown_timeout, warnings);
    readMs(env, "RUNTIME_TERMINATE_GRACE_MS", c.terminate_grace, warnings);
    long long spin = c.ring_spin.count();
    readNumber<long long>(env, "RUNTIME_RING_SPIN_US", spin, 0, 100000, warnings);
    c.ring_spin = std::chrono::microseconds(spin);
    if (auto prefix = admin::parseApiPrefix(get(env, "RUNTIME_API_PREFIX")); prefix)
        c.api_prefix = std::move(*prefix);
    else
        warnings.invalid(prefix.error().message, c.api_prefix);
    c.api_compat = get(env, "RUNTIME_API_COMPAT");
    if (!c.api_compat.empty() && c.api_compat != "bun" && c.api_compat != "native") {
        warnings.invalid("RUNTIME_API_COMPAT=\"" + c.api_compat + "\" is invalid (bun or native)", "native");
        c.api_compat.clear();
    }
    c.trusted_proxies = get(env, "RUNTIME_TRUSTED_PROXIES");
    if (auto proxies = http::TrustedProxies::parse(c.trusted_proxies); !proxies) {
        warnings.invalid("RUNTIME_TRUSTED_PROXIES=\"" + c.trusted_proxies + "\" is invalid (" + proxies.error() + ")",
                         "none");
        c.trusted_proxies.clear();
    }
    // Only validated here (with the parsers worker_launch uses), so a value that does not
    // parse is refused at start like the others instead of falling back there.
    if (errors) {
        boost::system::error_code ec;
        (void)boost::asio::ip::make_address(c.bind, ec);  // as http::Server reads it
        if (ec) errors->push_back("RUNTIME_BIND=\"" + c.bind + "\" is invalid (an IPv4 or IPv6 address)");
        if (auto spec = get(env, "RUNTIME_WORKER_ENV"); !router::EnvPolicy::parse(spec))
            errors->push_back("RUNTIME_WORKER_ENV=\"" + spec +
                              "\" is invalid (deny, deny:NAMES or allow:NAMES, names [A-Za-z0-9_], a trailing * for "
                              "a prefix)");
        if (auto mem = get(env, "RUNTIME_WORKER_MAX_MEMORY"); !mem.empty()) {
            auto size = router::parseSize(mem);
            if (!size || (*size != 0 && *size < router::kMinMaxMemory))
                errors->push_back("RUNTIME_WORKER_MAX_MEMORY=\"" + mem +
                                  "\" is invalid (a size such as 512mb, at least 16mb, or 0 for no cap)");
        }
    }
    return c;
}

}  // namespace buntime::supervisor
