// SPDX-License-Identifier: MIT
// What starting a worker for an app means: argv by the launch contract (proto/launch.h),
// environment, working directory, inherited channel descriptors and resource limits.
// Pure: builds proc::SpawnOptions, starts nothing.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
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
    std::string kind;                         // "so", "exec", "static", "js", "command" (proto::toString)
    std::string failure;                      // non-empty: nothing can be started, and this says why
};

struct LaunchSettings {
    std::string worker_binary;
    base::LogLevel log_level = base::LogLevel::Info;  // the supervisor's
    // JavaScript workers: the directory with worker.mjs and buntime_js.node (empty: found like
    // the worker binary, defaultJsDir()) and the runtimes (empty: RUNTIME_BUN / RUNTIME_NODE,
    // then PATH).
    std::string js_dir = {};
    std::string bun = {};
    std::string node = {};
};

// `environment`: what workers inherit (already without the supervisor's own variables).
LaunchPlan planLaunch(const LaunchSettings& settings, const router::ResolvedApp& app,
                      const router::WorkerConfig& config, const std::vector<std::string>& environment, bool ephemeral,
                      const shm::ChannelFds& channel);

// buntime-worker next to this executable, or in the build tree; else a bare name.
std::string defaultWorkerBinary();

// The JavaScript worker's directory (worker.mjs, buntime_js.node) next to this executable
// (<prefix>/libexec/buntime/js) or in the build tree (build/js); "" when none has worker.mjs.
std::string defaultJsDir();
// An executable `name` ("bun", "node"): the path in env `override_var` when set, else the first
// on PATH; "" when there is none.
std::string findRuntime(std::string_view name, const char* override_var);

// The app directory's `.env` (KEY=VALUE lines, `#` comments, optional quotes around the
// value), as the Bun runtime reads it; empty when there is none.
std::map<std::string, std::string> readDotEnv(const std::filesystem::path& app_dir);

// Drops the variables that belong to the supervisor (proto::isSupervisorOnly).
std::vector<std::string> withoutSupervisorOnly(std::vector<std::string> environment);

}  // namespace buntime::supervisor
