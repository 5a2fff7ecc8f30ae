// SPDX-License-Identifier: MIT
// What starting a worker for an app means: argv by the launch contract (proto/launch.h),
// environment, working directory, inherited channel descriptors and resource limits.
// Pure: builds proc::SpawnOptions, starts nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "buntime/base/log.h"
#include "buntime/proc/process.h"
#include "buntime/router/manifest.h"
#include "buntime/router/resolver.h"
#include "buntime/shm/channel.h"

namespace buntime::supervisor {

struct LaunchPlan {
    proc::SpawnOptions spawn;
    std::vector<std::string> dropped_env;     // inherited names withheld as sensitive
    std::vector<std::string> sensitive_kept;  // manifest names that look sensitive, passed as asked
};

struct LaunchSettings {
    std::string worker_binary;
    base::LogLevel log_level = base::LogLevel::Info;  // the supervisor's
    // For the seed runtime's worker variables (seedWorkerEnv).
    std::uint16_t port = 8000;     // RUNTIME_API_URL=http://127.0.0.1:<port>
    std::string node_env = {};     // NODE_ENV ("" → development, as the seed)
    std::string worker_dirs = {};  // RUNTIME_WORKER_DIRS, ':'-joined
};

// The variables the seed runtime gives every worker, as NAME=value entries: APP_DIR,
// ENTRYPOINT (absolute), WORKER_CONFIG (the effective manifest as JSON, without env values),
// WORKER_ID (a random UUID per process), NODE_ENV, RUNTIME_API_URL, RUNTIME_LOG_LEVEL (only when
// `environment` has none), RUNTIME_PLUGIN_DIRS (inherited or ""), RUNTIME_WORKER_DIRS.
std::vector<std::string> seedWorkerEnv(const LaunchSettings& settings, const router::ResolvedApp& app,
                                       const router::WorkerConfig& config, const std::vector<std::string>& environment);

// `environment`: what workers inherit (already without the supervisor's own variables).
LaunchPlan planLaunch(const LaunchSettings& settings, const router::ResolvedApp& app,
                      const router::WorkerConfig& config, const std::vector<std::string>& environment, bool ephemeral,
                      const shm::ChannelFds& channel);

// buntime-worker next to this executable, or in the build tree; else a bare name.
std::string defaultWorkerBinary();

// Drops the variables that belong to the supervisor (proto::isSupervisorOnly).
std::vector<std::string> withoutSupervisorOnly(std::vector<std::string> environment);

}  // namespace buntime::supervisor
