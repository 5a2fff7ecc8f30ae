// SPDX-License-Identifier: MIT
// What starting a worker for an app means: argv by the launch contract (proto/launch.h),
// environment, working directory, inherited channel descriptors and resource limits.
// Pure: builds proc::SpawnOptions, starts nothing.
#pragma once

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
};

// `environment`: what workers inherit (already without the supervisor's own variables).
LaunchPlan planLaunch(const LaunchSettings& settings, const router::ResolvedApp& app,
                      const router::WorkerConfig& config, const std::vector<std::string>& environment, bool ephemeral,
                      const shm::ChannelFds& channel);

// buntime-worker next to this executable, or in the build tree; else a bare name.
std::string defaultWorkerBinary();

// Drops the variables that belong to the supervisor (proto::isSupervisorOnly).
std::vector<std::string> withoutSupervisorOnly(std::vector<std::string> environment);

}  // namespace buntime::supervisor
