// SPDX-License-Identifier: MIT
// Launch plans for worker processes.
#include "worker_launch.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "buntime/proto/launch.h"
#include "buntime/router/env_filter.h"

namespace buntime::supervisor {
namespace {

bool executable(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// The JavaScript worker's extra argv and environment; false (plan.failure set) when it cannot run.
bool planJs(const LaunchSettings& settings, const router::WorkerConfig& config,
            const std::map<std::string, std::string>& app_env, LaunchPlan& plan, std::vector<std::string>& env,
            std::vector<std::string>& argv) {
    const bool node = config.runtime == "node";
    const std::string runtime = node ? (settings.node.empty() ? findRuntime("node", "RUNTIME_NODE") : settings.node)
                                     : (settings.bun.empty() ? findRuntime("bun", "RUNTIME_BUN") : settings.bun);
    if (runtime.empty()) {
        plan.failure = node ? "runtime: node needs Node.js (>= 20): not found in RUNTIME_NODE or PATH"
                            : "JavaScript apps need Bun: not found in RUNTIME_BUN or PATH (scripts/setup installs it; "
                              "or set runtime: node)";
        return false;
    }
    const std::string dir = settings.js_dir.empty() ? defaultJsDir() : settings.js_dir;
    if (dir.empty()) {
        plan.failure = "the JavaScript worker (worker.mjs, buntime_js.node) is not installed next to the supervisor";
        return false;
    }
    const auto script = (std::filesystem::path(dir) / "worker.mjs").string();
    argv.insert(argv.begin(), runtime);
    if (!node && config.low_memory) argv.insert(argv.begin() + 1, "--smol");
    argv.insert(argv.begin() + (argv.size() > 1 && argv[1] == "--smol" ? 2 : 1), script);
    plan.spawn.executable = runtime;
    env.push_back("BUNTIME_JS_ADDON=" + (std::filesystem::path(dir) / "buntime_js.node").string());
    if (config.auto_install) env.emplace_back("BUNTIME_AUTO_INSTALL=1");
    std::string names;
    for (const auto& [name, value] : app_env) {
        for (const auto& prefix : config.env_prefix) {
            if (!prefix.empty() && name.starts_with(prefix)) {
                names += (names.empty() ? "" : ",") + name;
                break;
            }
        }
    }
    if (!names.empty()) env.push_back("BUNTIME_PUBLIC_ENV=" + names);
    return true;
}

}  // namespace

std::map<std::string, std::string> readDotEnv(const std::filesystem::path& app_dir) {
    std::map<std::string, std::string> out;
    std::ifstream in(app_dir / ".env");
    if (!in) return out;
    std::string line;
    while (std::getline(in, line)) {
        std::string_view t = trim(line);
        if (t.empty() || t.front() == '#') continue;
        const auto eq = t.find('=');
        if (eq == std::string_view::npos) continue;
        std::string_view key = trim(t.substr(0, eq));
        std::string_view value = trim(t.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        if (key.empty() || key.find('\0') != std::string_view::npos || value.find('\0') != std::string_view::npos)
            continue;
        out[std::string(key)] = std::string(value);
    }
    return out;
}

std::string findRuntime(std::string_view name, const char* override_var) {
    if (const char* set = std::getenv(override_var); set && *set) return executable(set) ? std::string(set) : "";
    const char* path = std::getenv("PATH");
    std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const auto dir = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        if (dir.empty()) continue;
        auto candidate = std::filesystem::path(dir) / name;
        if (executable(candidate)) return candidate.string();
    }
    return "";
}

std::string defaultJsDir() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "";
    auto dir = self.parent_path();
    for (const auto& candidate : {dir.parent_path() / "libexec" / "buntime" / "js", dir / "js",
                                  dir.parent_path() / "js", dir.parent_path().parent_path() / "js"}) {
        if (std::filesystem::exists(candidate / "worker.mjs", ec)) return candidate.string();
    }
    return "";
}

LaunchPlan planLaunch(const LaunchSettings& settings, const router::ResolvedApp& app,
                      const router::WorkerConfig& config, const std::vector<std::string>& environment, bool ephemeral,
                      const shm::ChannelFds& channel) {
    LaunchPlan plan;
    // The app's .env under the manifest's env: the manifest wins a name both set.
    auto app_env = readDotEnv(app.dir);
    for (const auto& [k, v] : config.env) app_env[k] = v;
    auto env = router::buildWorkerEnv(environment, app_env);
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
    const auto entrypoint = launch.entrypoint.empty() ? proto::defaultEntrypoint(app.dir) : launch.entrypoint;
    const auto kind = proto::kindOf(entrypoint, !config.command.empty());
    plan.kind = std::string(proto::toString(kind));
    launch.threads = config.threads;
    launch.concurrency = config.concurrency;
    launch.max_body = config.max_body_size;
    launch.inject_base = config.inject_base;
    launch.command = config.command;
    launch.listen = config.listen;

    auto& so = plan.spawn;
    so.executable = settings.worker_binary;
    so.argv = proto::toArgv(launch, settings.worker_binary);
    if (kind == proto::EntrypointKind::Js) {
        launch.entrypoint = entrypoint;  // the worker need not search again
        so.argv = proto::toArgv(launch, settings.worker_binary);
        so.argv.erase(so.argv.begin());
        if (!planJs(settings, config, app_env, plan, env.env, so.argv)) return plan;
    }
    so.envp = std::move(env.env);
    so.working_directory = app.dir.string();
    so.pass_fds = {channel.segment, channel.to_worker_data, channel.to_worker_space, channel.to_supervisor_data,
                   channel.to_supervisor_space};
    so.rlimits.push_back({RLIMIT_CORE, 0, 0});
    // Bun and Node reserve large heaps up front; lowMemory means --smol for them instead.
    if (config.low_memory && kind != proto::EntrypointKind::Js)
        so.rlimits.push_back({RLIMIT_DATA, 256ull << 20, 256ull << 20});
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
