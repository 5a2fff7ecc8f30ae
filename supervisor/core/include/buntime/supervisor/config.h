// SPDX-License-Identifier: MIT
// The supervisor's configuration, read once from the environment into an immutable struct.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "buntime/base/log.h"

namespace buntime::supervisor {

struct SupervisorConfig {
    std::uint16_t port = 8000;                           // PORT
    std::string bind = "0.0.0.0";                        // RUNTIME_BIND
    std::vector<std::string> worker_dirs;                // RUNTIME_WORKER_DIRS (':'-separated)
    std::size_t pool_size = 100;                         // RUNTIME_POOL_SIZE
    unsigned ephemeral_concurrency = 2;                  // RUNTIME_EPHEMERAL_CONCURRENCY
    unsigned ephemeral_queue_limit = 100;                // RUNTIME_EPHEMERAL_QUEUE_LIMIT
    std::chrono::milliseconds config_cache_ttl{1000};    // RUNTIME_WORKER_CONFIG_CACHE_TTL_MS
    std::chrono::milliseconds resolver_cache_ttl{1000};  // RUNTIME_WORKER_RESOLVER_CACHE_TTL_MS
    base::LogLevel log_level = base::LogLevel::Info;     // RUNTIME_LOG_LEVEL
    std::string access_log = "stderr";                   // RUNTIME_ACCESS_LOG: stderr | off | path
    std::string admin_token;                             // RUNTIME_ADMIN_TOKEN
    std::string admin_socket;                            // RUNTIME_ADMIN_SOCKET (unix socket path)
    std::string unix_socket;                             // RUNTIME_UNIX_SOCKET (app traffic)
    std::string state_dir;                               // RUNTIME_STATE_DIR (lock file)
    std::string worker_binary;                           // RUNTIME_WORKER_BINARY (default: next to us)
    unsigned event_loops = 1;                            // RUNTIME_EVENT_LOOPS
    std::size_t ring_bytes = 256 * 1024;                 // RUNTIME_RING_BYTES
    std::size_t max_connections = 10000;                 // RUNTIME_MAX_CONNECTIONS
    std::size_t max_connections_per_ip = 1000;           // RUNTIME_MAX_CONNECTIONS_PER_IP (0: no limit)
    std::chrono::milliseconds body_timeout{60000};       // RUNTIME_BODY_TIMEOUT_MS (between body reads)
    std::uint64_t body_min_rate = 1024;                  // RUNTIME_BODY_MIN_RATE (bytes/s; 0: none)
    std::chrono::milliseconds worker_ping{1000};         // RUNTIME_WORKER_PING_MS (0: no liveness ping)
    std::chrono::milliseconds header_timeout{10000};     // RUNTIME_HEADER_TIMEOUT_MS
    std::chrono::milliseconds keepalive_timeout{60000};  // RUNTIME_KEEPALIVE_TIMEOUT_MS
    std::chrono::milliseconds shutdown_timeout{10000};   // RUNTIME_SHUTDOWN_TIMEOUT_MS
    std::chrono::milliseconds terminate_grace{5000};     // RUNTIME_TERMINATE_GRACE_MS
    std::chrono::microseconds ring_spin{30};             // RUNTIME_RING_SPIN_US
    std::string api_prefix = "/_";                       // RUNTIME_API_PREFIX (API at prefix + /api)
    std::string api_compat;                              // RUNTIME_API_COMPAT: "" | bun
    std::string node_env;                                // NODE_ENV: pool-size default; passed to workers
    std::size_t app_log_lines = 1000;                    // RUNTIME_APP_LOG_LINES (output lines kept per app)
    std::string trusted_proxies;                         // RUNTIME_TRUSTED_PROXIES (IPs and CIDRs, ',')
    std::string api_keys_file;                           // RUNTIME_API_KEYS_FILE (keys with roles)
    std::uint64_t deploy_max_upload = 100ull << 20;      // RUNTIME_DEPLOY_MAX_UPLOAD (bytes; POST <api>/apps)
};

// Reads the variables above; an invalid value is reported in `warnings` and replaced by
// the default, as the seed runtime does. Without RUNTIME_POOL_SIZE, NODE_ENV picks the seed's
// pool size (production 500, staging 50, development 10, test 5; unset 100).
// RUNTIME_EPHEMERAL_QUEUE_LIMIT=0 is ignored (the default applies), as in the seed.
SupervisorConfig configFromEnv(const std::vector<std::string>& environ_entries, std::vector<std::string>& warnings);
// The same, refusing what does not parse: each such variable is one line in `errors`
// ("PORT=\"abc\" is invalid (expected an integer in [0, 65535])"), and also checked are
// RUNTIME_BIND, RUNTIME_WORKER_ENV and RUNTIME_WORKER_MAX_MEMORY (read later by the launch
// settings). `warnings` keeps what the Bun-based runtime tolerates too (an unknown NODE_ENV,
// RUNTIME_EPHEMERAL_QUEUE_LIMIT=0). The supervisor's start and `buntime check` use this.
SupervisorConfig configFromEnv(const std::vector<std::string>& environ_entries, std::vector<std::string>& warnings,
                               std::vector<std::string>* errors);
std::vector<std::string> currentEnvironment();

}  // namespace buntime::supervisor
