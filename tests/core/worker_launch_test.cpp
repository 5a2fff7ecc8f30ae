// SPDX-License-Identifier: MIT
// Launch plans: the argv of the launch contract, the filtered environment with the channel,
// inherited descriptors, working directory and resource limits.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "buntime/proto/launch.h"
#include "worker_launch.h"

using namespace buntime;
using namespace buntime::supervisor;

namespace {

bool has(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

struct Sample {
    router::ResolvedApp app{"hello", "1.2.3", "/srv/apps/hello/1.2.3", "hello@1.2.3"};
    router::WorkerConfig config;
    std::vector<std::string> environment{"PATH=/usr/bin", "RUNTIME_LOG_LEVEL=debug", "STRIPE_SECRET=sk_live",
                                         "HOME=/root"};
    shm::ChannelFds fds{10, 11, 12, 13, 14};
};

}  // namespace

TEST_CASE("a pooled worker: the argv round-trips through the launch contract") {
    Sample s;
    s.config.threads = 2;
    s.config.concurrency = 8;
    s.config.max_body_size = 4096;
    s.config.entrypoint = "app.so";
    s.config.inject_base = true;
    s.config.env = {{"GREETING", "hi"}};
    auto plan =
        planLaunch({"/opt/buntime/buntime-worker", base::LogLevel::Info}, s.app, s.config, s.environment, false, s.fds);
    const auto& so = plan.spawn;
    CHECK(so.executable == "/opt/buntime/buntime-worker");
    std::vector<const char*> argv;
    for (const auto& a : so.argv) argv.push_back(a.c_str());
    auto launch = proto::parseArgv(static_cast<int>(argv.size()), argv.data());
    REQUIRE(launch);
    CHECK(launch->app_dir == "/srv/apps/hello/1.2.3");
    CHECK(launch->name == "hello");
    CHECK(launch->version == "1.2.3");
    CHECK(launch->entrypoint == "app.so");
    CHECK(launch->threads == 2);
    CHECK(launch->concurrency == 8);
    CHECK(launch->max_body == 4096);
    CHECK(launch->inject_base);

    CHECK(so.working_directory == "/srv/apps/hello/1.2.3");
    CHECK(so.pass_fds == std::vector<int>{10, 11, 12, 13, 14});
    CHECK(has(so.envp, "BUNTIME_CHANNEL=10,11,12,13,14"));
    CHECK(has(so.envp, "GREETING=hi"));
    CHECK(has(so.envp, "PATH=/usr/bin"));
    CHECK(has(so.envp, "RUNTIME_LOG_LEVEL=debug"));
    CHECK_FALSE(has(so.envp, "STRIPE_SECRET=sk_live"));
    CHECK(plan.dropped_env == std::vector<std::string>{"STRIPE_SECRET"});
    REQUIRE(so.rlimits.size() == 1);
    CHECK(so.rlimits[0].resource == RLIMIT_CORE);
}

TEST_CASE("an ephemeral worker logs at warn unless the supervisor is at debug; lowMemory caps its data") {
    Sample s;
    s.config.low_memory = true;
    auto quiet = planLaunch({"w", base::LogLevel::Info}, s.app, s.config, s.environment, true, s.fds);
    CHECK(has(quiet.spawn.envp, "RUNTIME_LOG_LEVEL=warn"));
    CHECK_FALSE(has(quiet.spawn.envp, "RUNTIME_LOG_LEVEL=debug"));
    REQUIRE(quiet.spawn.rlimits.size() == 2);
    CHECK(quiet.spawn.rlimits[1].resource == RLIMIT_DATA);
    CHECK(quiet.spawn.rlimits[1].soft == 256ull << 20);
    auto verbose = planLaunch({"w", base::LogLevel::Debug}, s.app, s.config, s.environment, true, s.fds);
    CHECK(has(verbose.spawn.envp, "RUNTIME_LOG_LEVEL=debug"));
}

TEST_CASE("the supervisor's own variables never reach a worker") {
    auto env = withoutSupervisorOnly({"LISTEN_FDS=2", "LISTEN_PID=9", "NOTIFY_SOCKET=/run/s", "WATCHDOG_USEC=5",
                                      "BUNTIME_CHANNEL=1,2,3,4,5", "PATH=/bin"});
    CHECK(env == std::vector<std::string>{"PATH=/bin"});
}

TEST_CASE("a JavaScript app runs as <runtime> worker.mjs <the launch argv>, with the addon and public names") {
    Sample s;
    s.config.entrypoint = "index.ts";
    s.config.env = {{"PUBLIC_A", "1"}, {"VITE_B", "2"}, {"PRIVATE_C", "3"}};
    s.config.auto_install = true;
    LaunchSettings settings{"/opt/buntime/buntime-worker", base::LogLevel::Info};
    settings.js_dir = "/opt/buntime/js";
    settings.bun = "/usr/local/bin/bun";
    auto plan = planLaunch(settings, s.app, s.config, s.environment, false, s.fds);
    CHECK(plan.failure.empty());
    CHECK(plan.kind == "js");
    const auto& so = plan.spawn;
    CHECK(so.executable == "/usr/local/bin/bun");
    REQUIRE(so.argv.size() > 2);
    CHECK(so.argv[0] == "/usr/local/bin/bun");
    CHECK(so.argv[1] == "/opt/buntime/js/worker.mjs");
    std::vector<const char*> rest{"buntime-worker"};
    for (std::size_t i = 2; i < so.argv.size(); ++i) rest.push_back(so.argv[i].c_str());
    auto parsed = proto::parseArgv(static_cast<int>(rest.size()), rest.data());
    REQUIRE(parsed);
    CHECK(parsed->entrypoint == "index.ts");
    CHECK(has(so.envp, "BUNTIME_JS_ADDON=/opt/buntime/js/buntime_js.node"));
    CHECK(has(so.envp, "BUNTIME_AUTO_INSTALL=1"));
    CHECK(has(so.envp, "BUNTIME_PUBLIC_ENV=PUBLIC_A,VITE_B"));
    CHECK(has(so.envp, "PRIVATE_C=3"));
}

TEST_CASE("a JavaScript app whose runtime cannot be found is a start failure that says which") {
    Sample s;
    s.config.entrypoint = "index.mjs";
    s.config.runtime = "node";
    LaunchSettings settings{"w", base::LogLevel::Info};
    settings.js_dir = "/opt/buntime/js";
    settings.node = "";
    ::setenv("RUNTIME_NODE", "/nonexistent/node", 1);
    auto plan = planLaunch(settings, s.app, s.config, s.environment, false, s.fds);
    ::unsetenv("RUNTIME_NODE");
    CHECK(plan.kind == "js");
    CHECK(plan.failure.find("Node.js") != std::string::npos);
}

TEST_CASE("workers get the Bun-based runtime's variables, which win over inherited and manifest ones") {
    Sample s;
    s.config.entrypoint = "dist/app.so";
    s.config.env = {{"APP_DIR", "/elsewhere"}, {"SECRET_VALUE", "x"}};
    s.environment.push_back("NODE_ENV=staging-old");
    s.environment.push_back("RUNTIME_PLUGIN_DIRS=/plugins");
    LaunchSettings settings{"w", base::LogLevel::Info};
    settings.port = 9123;
    settings.node_env = "production";
    settings.worker_dirs = "/srv/apps:/srv/more";
    auto plan = planLaunch(settings, s.app, s.config, s.environment, false, s.fds);
    const auto& env = plan.spawn.envp;
    CHECK(has(env, "APP_DIR=/srv/apps/hello/1.2.3"));
    CHECK_FALSE(has(env, "APP_DIR=/elsewhere"));
    CHECK(has(env, "ENTRYPOINT=/srv/apps/hello/1.2.3/dist/app.so"));
    CHECK(has(env, "NODE_ENV=production"));
    CHECK_FALSE(has(env, "NODE_ENV=staging-old"));
    CHECK(has(env, "RUNTIME_API_URL=http://127.0.0.1:9123"));
    CHECK(has(env, "RUNTIME_WORKER_DIRS=/srv/apps:/srv/more"));
    CHECK(has(env, "RUNTIME_PLUGIN_DIRS=/plugins"));
    CHECK(has(env, "RUNTIME_LOG_LEVEL=debug"));  // inherited, not replaced
    std::string id, config;
    for (const auto& e : env) {
        if (e.starts_with("WORKER_ID=")) id = e.substr(10);
        if (e.starts_with("WORKER_CONFIG=")) config = e.substr(14);
    }
    REQUIRE(id.size() == 36);
    CHECK(id[14] == '4');
    CHECK(std::count(id.begin(), id.end(), '-') == 4);
    const auto json = nlohmann::json::parse(config);
    CHECK(json["entrypoint"] == "dist/app.so");
    CHECK_FALSE(json.contains("env"));  // values travel as variables only
    // One entry per name: the later duplicate would be invisible to getenv.
    std::set<std::string> names;
    for (const auto& e : env) CHECK(names.insert(e.substr(0, e.find('='))).second);
    // Each process has its own id.
    auto again = planLaunch(settings, s.app, s.config, s.environment, false, s.fds);
    CHECK_FALSE(has(again.spawn.envp, "WORKER_ID=" + id));
    // Unset NODE_ENV: development, as the seed.
    CHECK(has(planLaunch({"w", base::LogLevel::Info}, s.app, s.config, {}, false, s.fds).spawn.envp,
              "NODE_ENV=development"));
}
