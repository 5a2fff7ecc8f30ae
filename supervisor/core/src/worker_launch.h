// SPDX-License-Identifier: MIT
// What starting a worker for an app means: argv by the launch contract (proto/launch.h),
// environment, working directory, inherited channel descriptors, resource limits and
// isolation (no_new_privs, the worker user, the app's cgroup).
// planLaunch builds proc::SpawnOptions and starts nothing; with cgroups set it creates or
// updates the app's cgroup (a few writes under /sys/fs/cgroup).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/base/log.h"
#include "buntime/proc/cgroup.h"
#include "buntime/proc/process.h"
#include "buntime/router/env_filter.h"
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

inline constexpr std::uint64_t kDefaultWorkerMaxMemory = 512ull << 20;  // RUNTIME_WORKER_MAX_MEMORY
// A worker whose RSS passes this share of its memory cap is recycled between requests.
inline constexpr unsigned kRecyclePercent = 80;
inline constexpr std::chrono::milliseconds kRssCheckInterval{100};  // per worker, between requests

struct LaunchSettings {
    std::string worker_binary;
    base::LogLevel log_level = base::LogLevel::Info;          // the supervisor's
    router::EnvPolicy env_policy = {};                        // RUNTIME_WORKER_ENV
    std::uint64_t max_memory = 0;                             // default cap per worker; 0 = none (launchSettings
                                                              // sets RUNTIME_WORKER_MAX_MEMORY, 512 MiB)
    std::optional<proc::Credentials> worker_user = {};        // RUNTIME_WORKER_USER, when started as root
    std::shared_ptr<const proc::WorkerCgroups> cgroups = {};  // null: caps fall back to RLIMIT_DATA
    // JavaScript workers: the directory with worker.mjs and buntime_js.node (empty: found like
    // the worker binary, defaultJsDir()) and the runtimes (empty: RUNTIME_BUN / RUNTIME_NODE,
    // then PATH).
    std::string js_dir = {};
    std::string bun = {};
    std::string node = {};
    // For the seed runtime's worker variables (seedWorkerEnv).
    std::uint16_t port = 8000;     // RUNTIME_API_URL=http://127.0.0.1:<port>
    std::string node_env = {};     // NODE_ENV ("" → development, as the seed)
    std::string worker_dirs = {};  // RUNTIME_WORKER_DIRS, ':'-joined
};

// The worker settings of the supervisor's environment: RUNTIME_WORKER_ENV,
// RUNTIME_WORKER_MAX_MEMORY, RUNTIME_WORKER_USER, and cgroup v2 when it is usable. Logs one
// line each for the isolation it sets up (or why it cannot). An error (a malformed value, a
// named user that does not exist) means the supervisor must not start.
base::Expected<LaunchSettings, std::string> launchSettings(const std::vector<std::string>& environment,
                                                           std::string worker_binary, base::LogLevel log_level,
                                                           const proc::CgroupSources& cgroup_sources = {});

// The memory cap of one app's workers (bytes; 0 = none) and the RSS past which a worker
// is recycled between requests (0 = never).
std::uint64_t workerMemoryCap(const LaunchSettings& settings, const router::WorkerConfig& config);
std::uint64_t recycleRssBytes(const LaunchSettings& settings, const router::WorkerConfig& config);

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
