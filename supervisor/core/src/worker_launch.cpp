// SPDX-License-Identifier: MIT
// Launch plans for worker processes.
#include "worker_launch.h"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <random>

#include "buntime/proto/launch.h"
#include "buntime/router/env_filter.h"
#include "buntime/router/json.h"

namespace buntime::supervisor {

LaunchPlan planLaunch(const LaunchSettings& settings, const router::ResolvedApp& app,
                      const router::WorkerConfig& config, const std::vector<std::string>& environment, bool ephemeral,
                      const shm::ChannelFds& channel) {
    LaunchPlan plan;
    auto env = router::buildWorkerEnv(environment, config.env);
    plan.dropped_env = std::move(env.dropped);
    plan.sensitive_kept = std::move(env.sensitive_kept);
    if (ephemeral && settings.log_level != base::LogLevel::Debug) {
        // One process per request: its lifecycle lines would flood the journal; the supervisor
        // accounts for it (access log, metrics), so the worker only reports problems.
        std::erase_if(env.env, [](const std::string& e) { return e.starts_with("RUNTIME_LOG_LEVEL="); });
        env.env.emplace_back("RUNTIME_LOG_LEVEL=warn");
    }
    // The seed's worker variables win over inherited and manifest ones, as in the seed.
    auto seed = seedWorkerEnv(settings, app, config, env.env);
    std::erase_if(env.env, [&](const std::string& e) {
        const auto name = std::string_view(e).substr(0, e.find('='));
        return std::any_of(seed.begin(), seed.end(), [&](const std::string& s) {
            return s.size() > name.size() && s.starts_with(name) && s[name.size()] == '=';
        });
    });
    env.env.insert(env.env.end(), std::make_move_iterator(seed.begin()), std::make_move_iterator(seed.end()));
    env.env.push_back(proto::channelEnvEntry(channel));

    proto::WorkerLaunch launch;
    launch.app_dir = app.dir.string();
    launch.name = app.name;
    launch.version = app.version;
    launch.entrypoint = config.entrypoint.value_or("");
    launch.threads = config.threads;
    launch.concurrency = config.concurrency;
    launch.max_body = config.max_body_size;
    launch.inject_base = config.inject_base;

    auto& so = plan.spawn;
    so.executable = settings.worker_binary;
    so.argv = proto::toArgv(launch, settings.worker_binary);
    so.envp = std::move(env.env);
    so.working_directory = app.dir.string();
    so.pass_fds = {channel.segment, channel.to_worker_data, channel.to_worker_space, channel.to_supervisor_data,
                   channel.to_supervisor_space};
    so.rlimits.push_back({RLIMIT_CORE, 0, 0});
    if (config.low_memory) so.rlimits.push_back({RLIMIT_DATA, 256ull << 20, 256ull << 20});
    return plan;
}

namespace {

// A random (version 4) UUID, as the seed's crypto.randomUUID().
std::string randomUuid() {
    static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                            (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
    std::uint64_t hi = rng(), lo = rng();
    hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
    lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);  // variant 10
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                  static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
    return buf;
}

const std::string* findEntry(const std::vector<std::string>& env, std::string_view name) {
    for (const auto& e : env)
        if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=') return &e;
    return nullptr;
}

}  // namespace

std::vector<std::string> seedWorkerEnv(const LaunchSettings& settings, const router::ResolvedApp& app,
                                       const router::WorkerConfig& config,
                                       const std::vector<std::string>& environment) {
    // Absolute, as the seed's join(appDir, entrypoint); "" when the app has none.
    const std::string relative = config.entrypoint ? *config.entrypoint : proto::defaultEntrypoint(app.dir);
    const std::string entrypoint = relative.empty() ? std::string() : (app.dir / relative).lexically_normal().string();
    nlohmann::json worker_config = router::toJson(config);
    worker_config.erase("env");  // env values reach the worker as variables, never as text
    std::vector<std::string> out = {
        "APP_DIR=" + app.dir.string(),
        "ENTRYPOINT=" + entrypoint,
        "WORKER_CONFIG=" + worker_config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        "WORKER_ID=" + randomUuid(),
        "NODE_ENV=" + (settings.node_env.empty() ? std::string("development") : settings.node_env),
        "RUNTIME_API_URL=http://127.0.0.1:" + std::to_string(settings.port),
        "RUNTIME_WORKER_DIRS=" + settings.worker_dirs,
    };
    const std::string* plugin_dirs = findEntry(environment, "RUNTIME_PLUGIN_DIRS");
    out.push_back(plugin_dirs ? *plugin_dirs : std::string("RUNTIME_PLUGIN_DIRS="));
    if (!findEntry(environment, "RUNTIME_LOG_LEVEL"))
        out.push_back("RUNTIME_LOG_LEVEL=" + std::string(base::toString(settings.log_level)));
    return out;
}

std::string defaultWorkerBinary() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "buntime-worker";
    auto dir = self.parent_path();
    // Installed side by side, or the build tree (build/supervisor/core/buntime, build/worker/...).
    for (const auto& candidate : {dir / "buntime-worker", dir.parent_path() / "worker" / "buntime-worker",
                                  dir.parent_path().parent_path() / "worker" / "buntime-worker"}) {
        if (std::filesystem::exists(candidate, ec)) return candidate.string();
    }
    return (dir / "buntime-worker").string();
}

std::vector<std::string> withoutSupervisorOnly(std::vector<std::string> environment) {
    std::erase_if(environment, [](const std::string& e) { return proto::isSupervisorOnly(e); });
    return environment;
}

}  // namespace buntime::supervisor
