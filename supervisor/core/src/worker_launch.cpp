// SPDX-License-Identifier: MIT
// Launch plans for worker processes.
#include "worker_launch.h"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>

#include "buntime/proto/launch.h"
#include "buntime/router/env_filter.h"

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
    launch.command = config.command;
    launch.listen = config.listen;

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
