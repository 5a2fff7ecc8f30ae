// SPDX-License-Identifier: MIT
// Pure mappings from the supervisor's configuration to its components' sections.
#include "config_mapping.h"

#include "buntime/admin/compat_views.h"
#include "buntime/base/log.h"

namespace buntime::supervisor {

router::RouterOptions toRouterOptions(const SupervisorConfig& c) {
    router::RouterOptions o;
    for (const auto& d : c.worker_dirs) o.roots.emplace_back(d);
    o.config_cache_ttl = c.config_cache_ttl;
    o.resolver_cache_ttl = c.resolver_cache_ttl;
    o.reserved_root = admin::reservedRoot(c.api_prefix);
    o.warn = [](const std::string& message) { base::logWarn("router", message); };
    return o;
}

pool::PoolConfig toPoolConfig(const SupervisorConfig& c) {
    pool::PoolConfig p;
    p.capacity = c.pool_size;
    p.ephemeral_concurrency = c.ephemeral_concurrency;
    p.ephemeral_queue_limit = c.ephemeral_queue_limit;
    p.terminate_grace = c.terminate_grace;
    return p;
}

http::ServerConfig toServerConfig(const SupervisorConfig& c, std::vector<int> inherited_fds) {
    http::ServerConfig sc;
    sc.bind_address = c.bind;
    sc.port = c.port;
    sc.unix_socket_path = c.unix_socket;
    sc.admin_socket_path = c.admin_socket;
    sc.inherited_fds = std::move(inherited_fds);
    sc.listen_tcp = sc.inherited_fds.empty();
    sc.threads = c.event_loops;
    sc.header_timeout = c.header_timeout;
    sc.idle_timeout = c.keepalive_timeout;
    sc.max_connections = c.max_connections;
    sc.max_connections_per_ip = c.max_connections_per_ip;
    sc.body_timeout = c.body_timeout;
    sc.body_min_rate = c.body_min_rate;
    sc.access_log = c.access_log;
    // configFromEnv refused (or cleared) a list that does not parse.
    if (auto proxies = http::TrustedProxies::parse(c.trusted_proxies)) sc.trusted_proxies = std::move(proxies.value());
    return sc;
}

shm::ChannelConfig toChannelConfig(const SupervisorConfig& c, std::uint32_t generation) {
    shm::ChannelConfig cc;
    cc.ring_bytes = c.ring_bytes;
    cc.generation = generation;
    cc.spin = c.ring_spin;
    return cc;
}

}  // namespace buntime::supervisor
