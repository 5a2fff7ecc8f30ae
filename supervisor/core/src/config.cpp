// SPDX-License-Identifier: MIT
// Environment → SupervisorConfig, with the seed's defaults and warnings for bad values.
#include "buntime/supervisor/config.h"

#include <charconv>
#include <map>
#include <string_view>

extern char** environ;

namespace buntime::supervisor {
namespace {

using Env = std::map<std::string, std::string, std::less<>>;

template <typename T>
void readNumber(const Env& env, std::string_view name, T& out, T min, T max, std::vector<std::string>& warnings) {
    auto it = env.find(name);
    if (it == env.end() || it->second.empty()) return;
    T value{};
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || p != s.data() + s.size() || value < min || value > max) {
        warnings.push_back(std::string(name) + "=\"" + s + "\" is invalid (expected an integer in [" +
                           std::to_string(min) + ", " + std::to_string(max) + "]); using " + std::to_string(out));
        return;
    }
    out = value;
}

void readMs(const Env& env, std::string_view name, std::chrono::milliseconds& out, std::vector<std::string>& warnings) {
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
    readNumber<std::size_t>(env, "RUNTIME_POOL_SIZE", c.pool_size, 1, 100000, warnings);
    readNumber<unsigned>(env, "RUNTIME_EPHEMERAL_CONCURRENCY", c.ephemeral_concurrency, 1, 10000, warnings);
    readNumber<unsigned>(env, "RUNTIME_EPHEMERAL_QUEUE_LIMIT", c.ephemeral_queue_limit, 0, 1000000, warnings);
    readMs(env, "RUNTIME_WORKER_CONFIG_CACHE_TTL_MS", c.config_cache_ttl, warnings);
    readMs(env, "RUNTIME_WORKER_RESOLVER_CACHE_TTL_MS", c.resolver_cache_ttl, warnings);
    auto level = get(env, "RUNTIME_LOG_LEVEL");
    if (!level.empty()) {
        auto parsed = base::parseLogLevel(level);
        if (!parsed)
            warnings.push_back("RUNTIME_LOG_LEVEL=\"" + level +
                               "\" is invalid (debug|info|warn|error|off); using info");
        else
            c.log_level = *parsed;
    }
    c.access_log = get(env, "RUNTIME_ACCESS_LOG", c.access_log);
    if (c.access_log.empty()) c.access_log = "stderr";
    c.admin_token = get(env, "RUNTIME_ADMIN_TOKEN");
    c.admin_socket = get(env, "RUNTIME_ADMIN_SOCKET");
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
    readMs(env, "RUNTIME_HEADER_TIMEOUT_MS", c.header_timeout, warnings);
    readMs(env, "RUNTIME_KEEPALIVE_TIMEOUT_MS", c.keepalive_timeout, warnings);
    readMs(env, "RUNTIME_SHUTDOWN_TIMEOUT_MS", c.shutdown_timeout, warnings);
    readMs(env, "RUNTIME_TERMINATE_GRACE_MS", c.terminate_grace, warnings);
    long long spin = c.ring_spin.count();
    readNumber<long long>(env, "RUNTIME_RING_SPIN_US", spin, 0, 100000, warnings);
    c.ring_spin = std::chrono::microseconds(spin);
    return c;
}

}  // namespace buntime::supervisor
