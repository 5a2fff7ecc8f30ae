// SPDX-License-Identifier: MIT
// Launch plans for worker processes.
#include "worker_launch.h"

#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <random>

#include "buntime/base/ascii.h"
#include "buntime/base/uuid.h"
#include "buntime/proto/launch.h"
#include "buntime/router/env_filter.h"
#include "buntime/router/json.h"
#include "buntime/router/units.h"

namespace buntime::supervisor {
namespace {

bool executable(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// The entry "NAME=..." of `env`, or null.
const std::string* findEntry(const std::vector<std::string>& env, std::string_view name) {
    for (const auto& e : env)
        if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=') return &e;
    return nullptr;
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
        std::string_view t = base::trim(line);
        if (t.empty() || t.front() == '#') continue;
        const auto eq = t.find('=');
        if (eq == std::string_view::npos) continue;
        std::string_view key = base::trim(t.substr(0, eq));
        std::string_view value = base::trim(t.substr(eq + 1));
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
    auto env = router::buildWorkerEnv(environment, app_env, settings.env_policy);
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
        return findEntry(seed, std::string_view(e).substr(0, e.find('='))) != nullptr;
    });
    env.env.insert(env.env.end(), std::make_move_iterator(seed.begin()), std::make_move_iterator(seed.end()));
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
    so.no_new_privs = true;
    so.credentials = settings.worker_user;

    // The memory cap: the app's cgroup when there is one (the kernel's OOM killer ends the
    // worker), else RLIMIT_DATA (allocations past it fail inside the worker).
    // Bun and Node reserve large heaps up front (lowMemory means --smol for them), so a JS
    // worker's cap is its cgroup or the RSS recycling, never RLIMIT_DATA.
    const bool js = kind == proto::EntrypointKind::Js;
    std::uint64_t data_limit = config.low_memory && !js ? 256ull << 20 : 0;
    const auto cap = workerMemoryCap(settings, config);
    bool capped_by_cgroup = false;
    if (settings.cgroups) {
        auto group = settings.cgroups->appGroup(app.key, cap, config.cpu_weight);
        if (group) {
            so.cgroup_procs = std::move(group.value());
            capped_by_cgroup = true;
        } else {
            base::logWarn("proc",
                          "cgroup for " + app.key + ": " + group.error().message + "; capping with RLIMIT_DATA");
        }
    }
    if (cap && !capped_by_cgroup && !js) data_limit = data_limit ? std::min(data_limit, cap) : cap;
    if (data_limit) so.rlimits.push_back({RLIMIT_DATA, data_limit, data_limit});
    return plan;
}

std::uint64_t workerMemoryCap(const LaunchSettings& settings, const router::WorkerConfig& config) {
    return config.max_memory.value_or(settings.max_memory);
}

std::uint64_t recycleRssBytes(const LaunchSettings& settings, const router::WorkerConfig& config) {
    const auto cap = workerMemoryCap(settings, config);
    return cap / 100 * kRecyclePercent;
}

namespace {

std::string envValue(const std::vector<std::string>& environment, std::string_view name) {
    const std::string* entry = findEntry(environment, name);
    return entry ? entry->substr(name.size() + 1) : std::string();
}

// RUNTIME_WORKER_USER (default buntime-worker) when the supervisor runs as root.
base::Expected<std::optional<proc::Credentials>, std::string> workerUser(const std::string& configured) {
    if (::geteuid() != 0) {
        if (!configured.empty())
            base::logWarn("supervisor", "RUNTIME_WORKER_USER=" + configured +
                                            " is ignored: the supervisor is not root, workers run as its user");
        return std::optional<proc::Credentials>{};
    }
    const std::string name = configured.empty() ? "buntime-worker" : configured;
    if (name == "root" || name == "0") {
        base::logWarn("supervisor", "workers run as root (RUNTIME_WORKER_USER=root)");
        return std::optional<proc::Credentials>{};
    }
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    uid_t uid = 0;
    const bool numeric = std::from_chars(name.data(), name.data() + name.size(), uid).ptr == name.data() + name.size();
    if (numeric)
        ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
    else
        ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (found) {
        base::logInfo("supervisor", "workers run as " + std::string(pw.pw_name) + " (uid " + std::to_string(pw.pw_uid) +
                                        ", gid " + std::to_string(pw.pw_gid) + ")");
        return std::optional<proc::Credentials>{proc::Credentials{pw.pw_uid, pw.pw_gid, {}}};
    }
    if (numeric) {  // a uid without a passwd entry: its own group
        base::logInfo("supervisor", "workers run as uid " + name + " (no passwd entry; gid " + name + ")");
        return std::optional<proc::Credentials>{proc::Credentials{uid, static_cast<gid_t>(uid), {}}};
    }
    if (!configured.empty())
        return "RUNTIME_WORKER_USER=" + configured + ": no such user (create it, or set RUNTIME_WORKER_USER=root)";
    base::logWarn("supervisor",
                  "the user buntime-worker does not exist (scripts/install creates it): workers run as "
                  "root and can read what root can; set RUNTIME_WORKER_USER");
    return std::optional<proc::Credentials>{};
}

// A random (version 4) UUID, as the seed's crypto.randomUUID().
std::string randomUuid() {
    static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                            (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
    const std::uint64_t hi = rng(), lo = rng();
    return base::formatUuidV4(hi, lo);
}

}  // namespace

base::Expected<LaunchSettings, std::string> launchSettings(const std::vector<std::string>& environment,
                                                           std::string worker_binary, base::LogLevel log_level,
                                                           const proc::CgroupSources& cgroup_sources) {
    LaunchSettings s;
    s.worker_binary = std::move(worker_binary);
    s.log_level = log_level;

    const auto env_spec = envValue(environment, "RUNTIME_WORKER_ENV");
    if (auto policy = router::EnvPolicy::parse(env_spec)) {
        s.env_policy = std::move(*policy);
    } else {
        base::logWarn("config", "RUNTIME_WORKER_ENV=\"" + env_spec +
                                    "\" is invalid (deny, deny:NAMES or allow:NAMES, names [A-Za-z0-9_], a "
                                    "trailing * for a prefix); using deny");
    }
    base::logInfo("supervisor", "worker environment: " + s.env_policy.describe());

    s.max_memory = kDefaultWorkerMaxMemory;
    if (const auto mem = envValue(environment, "RUNTIME_WORKER_MAX_MEMORY"); !mem.empty()) {
        auto size = router::parseSize(mem);
        if (!size || (*size != 0 && *size < router::kMinMaxMemory))
            base::logWarn("config", "RUNTIME_WORKER_MAX_MEMORY=\"" + mem +
                                        "\" is invalid (a size such as 512mb, at least 16mb, or 0 for no cap); "
                                        "using 512mb");
        else
            s.max_memory = *size;
    }

    auto user = workerUser(envValue(environment, "RUNTIME_WORKER_USER"));
    if (!user) return user.error();
    s.worker_user = std::move(user.value());

    auto cgroups = proc::WorkerCgroups::setUp(cgroup_sources);
    const std::string cap = s.max_memory ? std::to_string(s.max_memory >> 20) + " MiB" : "none";
    if (cgroups) {
        base::logInfo("supervisor", "worker limits: cgroup v2 under " + cgroups->workersDir() +
                                        " (memory.max, default " + cap + "; cpu.weight per app)" +
                                        (cgroups->movedSupervisor() ? "; the supervisor moved to a leaf group" : ""));
        s.cgroups = std::make_shared<const proc::WorkerCgroups>(std::move(cgroups.value()));
    } else {
        base::logWarn("supervisor", "cgroup v2 unavailable: " + cgroups.error().message +
                                        "; worker memory caps use RLIMIT_DATA (default " + cap +
                                        ") and apps get no CPU isolation (cpuWeight ignored)");
    }
    return s;
}

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
