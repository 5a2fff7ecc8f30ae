// SPDX-License-Identifier: MIT
// configFromEnv: the seed's defaults, every variable read, and a warning (with the default
// kept) for a value that does not parse or is out of range.
#include <doctest/doctest.h>

#include "buntime/supervisor/config.h"
#include "config_mapping.h"

using namespace buntime::supervisor;

namespace {
SupervisorConfig read(std::vector<std::string> env, std::vector<std::string>& warnings) {
    return configFromEnv(env, warnings);
}
}  // namespace

TEST_CASE("defaults with an empty environment") {
    std::vector<std::string> warnings;
    auto c = read({}, warnings);
    CHECK(warnings.empty());
    CHECK(c.port == 8000);
    CHECK(c.bind == "0.0.0.0");
    CHECK(c.worker_dirs.empty());
    CHECK(c.pool_size == 100);
    CHECK(c.ephemeral_concurrency == 2);
    CHECK(c.ephemeral_queue_limit == 100);
    CHECK(c.config_cache_ttl == std::chrono::milliseconds(1000));
    CHECK(c.resolver_cache_ttl == std::chrono::milliseconds(1000));
    CHECK(c.log_level == buntime::base::LogLevel::Info);
    CHECK(c.access_log == "stderr");
    CHECK(c.event_loops == 1);
}

TEST_CASE("every variable is read") {
    std::vector<std::string> warnings;
    auto c =
        read({"PORT=9000", "RUNTIME_BIND=127.0.0.1", "RUNTIME_WORKER_DIRS=/a::/b:", "RUNTIME_POOL_SIZE=7",
              "RUNTIME_EPHEMERAL_CONCURRENCY=4", "RUNTIME_EPHEMERAL_QUEUE_LIMIT=7",
              "RUNTIME_WORKER_CONFIG_CACHE_TTL_MS=0", "RUNTIME_WORKER_RESOLVER_CACHE_TTL_MS=250",
              "RUNTIME_LOG_LEVEL=silent", "RUNTIME_ACCESS_LOG=off", "RUNTIME_ADMIN_TOKEN=t", "RUNTIME_EVENT_LOOPS=2",
              "RUNTIME_RING_BYTES=65536", "RUNTIME_TERMINATE_GRACE_MS=100", "RUNTIME_RING_SPIN_US=0"},
             warnings);
    CHECK(warnings.empty());
    CHECK(c.port == 9000);
    CHECK(c.bind == "127.0.0.1");
    CHECK(c.worker_dirs == std::vector<std::string>{"/a", "/b"});
    CHECK(c.pool_size == 7);
    CHECK(c.ephemeral_concurrency == 4);
    CHECK(c.ephemeral_queue_limit == 7);
    CHECK(c.config_cache_ttl.count() == 0);
    CHECK(c.resolver_cache_ttl.count() == 250);
    CHECK(c.log_level == buntime::base::LogLevel::Off);
    CHECK(c.access_log == "off");
    CHECK(c.admin_token == "t");
    CHECK(c.event_loops == 2);
    CHECK(c.ring_bytes == 65536);
    CHECK(c.terminate_grace.count() == 100);
    CHECK(c.ring_spin.count() == 0);

    auto pool = toPoolConfig(c);
    CHECK(pool.capacity == 7);
    CHECK(pool.ephemeral_concurrency == 4);
    CHECK(pool.terminate_grace.count() == 100);
    auto router = toRouterOptions(c);
    REQUIRE(router.roots.size() == 2);
    CHECK(router.resolver_cache_ttl.count() == 250);
    auto server = toServerConfig(c, {});
    CHECK(server.listen_tcp);
    CHECK(server.threads == 2);
    CHECK_FALSE(toServerConfig(c, {3}).listen_tcp);  // socket activation: no TCP bind of our own
}

TEST_CASE("invalid values warn and keep the default") {
    std::vector<std::string> warnings;
    auto c = read({"PORT=abc", "RUNTIME_POOL_SIZE=0", "RUNTIME_EPHEMERAL_CONCURRENCY=-1", "RUNTIME_LOG_LEVEL=loud",
                   "RUNTIME_RING_BYTES=12"},
                  warnings);
    CHECK(c.port == 8000);
    CHECK(c.pool_size == 100);
    CHECK(c.ephemeral_concurrency == 2);
    CHECK(c.log_level == buntime::base::LogLevel::Info);
    CHECK(c.ring_bytes == 256 * 1024);
    REQUIRE(warnings.size() == 5);
    CHECK(warnings[0] == "PORT=\"abc\" is invalid (expected an integer in [0, 65535]); using 8000");
}

TEST_CASE("the Bun-based runtime's environment rules: NODE_ENV pool defaults, queue limit 0, API prefix") {
    std::vector<std::string> warnings;
    CHECK(read({"NODE_ENV=production"}, warnings).pool_size == 500);
    CHECK(read({"NODE_ENV=staging"}, warnings).pool_size == 50);
    CHECK(read({"NODE_ENV=development"}, warnings).pool_size == 10);
    CHECK(read({"NODE_ENV=test"}, warnings).pool_size == 5);
    CHECK(warnings.empty());
    CHECK(read({"NODE_ENV=production", "RUNTIME_POOL_SIZE=7"}, warnings).pool_size == 7);
    CHECK(read({"NODE_ENV=production"}, warnings).node_env == "production");
    CHECK(read({"NODE_ENV=qa"}, warnings).pool_size == 100);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("NODE_ENV") != std::string::npos);

    warnings.clear();
    CHECK(read({"RUNTIME_EPHEMERAL_QUEUE_LIMIT=0"}, warnings).ephemeral_queue_limit == 100);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("ignored") != std::string::npos);

    warnings.clear();
    CHECK(read({}, warnings).api_prefix == "/_");
    CHECK(read({"RUNTIME_API_PREFIX=/ops/"}, warnings).api_prefix == "/ops");
    CHECK(read({"RUNTIME_API_PREFIX=/"}, warnings).api_prefix.empty());
    CHECK(read({"RUNTIME_API_COMPAT=bun"}, warnings).api_compat == "bun");
    CHECK(warnings.empty());
    CHECK(read({"RUNTIME_API_PREFIX=ops"}, warnings).api_prefix == "/_");
    CHECK(read({"RUNTIME_API_COMPAT=yes"}, warnings).api_compat.empty());
    CHECK(warnings.size() == 2);
    CHECK(toRouterOptions(read({"RUNTIME_API_PREFIX=/"}, warnings)).reserved_root == "/api");
}

TEST_CASE("with an error list, a value that does not parse is an error (the start refuses it), not a default") {
    std::vector<std::string> warnings, errors;
    configFromEnv({"PORT=abc", "RUNTIME_WORKER_PING_MS=soon", "RUNTIME_API_COMPAT=yes", "NODE_ENV=qa",
                   "RUNTIME_EPHEMERAL_QUEUE_LIMIT=0", "RUNTIME_TRUSTED_PROXIES=10.0.0.0/8,fd00::/8"},
                  warnings, &errors);
    REQUIRE(errors.size() == 3);
    CHECK(errors[0] == "PORT=\"abc\" is invalid (expected an integer in [0, 65535])");
    CHECK(errors[1] == "RUNTIME_WORKER_PING_MS=\"soon\" is invalid (expected an integer in [0, 31536000000])");
    CHECK(errors[2] == "RUNTIME_API_COMPAT=\"yes\" is invalid (bun or native)");
    REQUIRE(warnings.size() == 2);  // what the Bun-based runtime tolerates stays a warning
    CHECK(warnings[0].starts_with("NODE_ENV=\"qa\""));
    CHECK(warnings[1].starts_with("RUNTIME_EPHEMERAL_QUEUE_LIMIT=0 is ignored"));

    errors.clear();
    warnings.clear();
    auto c = configFromEnv({"PORT=9000", "RUNTIME_TRUSTED_PROXIES=10.0.0.0/8, ::1"}, warnings, &errors);
    CHECK(errors.empty());
    CHECK(warnings.empty());
    CHECK(c.trusted_proxies == "10.0.0.0/8, ::1");
    CHECK(toServerConfig(c, {}).trusted_proxies.contains(*buntime::http::IpAddress::parse("10.1.1.1")));
    CHECK_FALSE(toServerConfig(c, {}).trusted_proxies.contains(*buntime::http::IpAddress::parse("11.1.1.1")));
}
