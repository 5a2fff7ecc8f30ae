// SPDX-License-Identifier: MIT
// Launch plans and settings for worker isolation (issue 11): memory caps by cgroup or
// RLIMIT_DATA, cpu.weight, no_new_privs, the worker user, the environment policy.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "temp_dir.h"
#include "worker_launch.h"

using namespace buntime;
using namespace buntime::supervisor;
using buntime::test::readFile;
using buntime::test::TempDir;

namespace {

struct Sample {
    router::ResolvedApp app{"hello", "1.2.3", "/srv/apps/hello/1.2.3", "hello@1.2.3"};
    router::WorkerConfig config;
    std::vector<std::string> environment{"PATH=/usr/bin", "HOME=/root", "PGPASSWORD=x"};
    shm::ChannelFds fds{10, 11, 12, 13, 14};
};

std::optional<rlim_t> dataLimit(const proc::SpawnOptions& so) {
    for (const auto& r : so.rlimits)
        if (r.resource == RLIMIT_DATA) return r.soft;
    return std::nullopt;
}

// A fake cgroup2 tree in which the supervisor's group is delegated.
proc::CgroupSources fakeCgroups(const TempDir& t) {
    t.write("proc/cgroup", "0::/svc\n");
    t.write("proc/mountinfo", "30 22 0:26 / " + t.path() + "/fs rw - cgroup2 cgroup2 rw\n");
    t.write("fs/svc/cgroup.controllers", "cpu memory\n");
    t.write("fs/svc/cgroup.subtree_control", "");
    return {t / "proc/cgroup", t / "proc/mountinfo"};
}

// Settings as the supervisor builds them, without touching this machine's cgroups.
LaunchSettings settingsFrom(std::vector<std::string> env, const proc::CgroupSources& sources) {
    auto s = launchSettings(env, "w", base::LogLevel::Info, sources);
    REQUIRE_MESSAGE(s, s.error());
    return std::move(s.value());
}

const proc::CgroupSources kNoCgroups{"/nonexistent/cgroup", "/nonexistent/mountinfo"};

}  // namespace

TEST_CASE("every worker gets no_new_privs and the configured user") {
    Sample s;
    LaunchSettings settings{"w", base::LogLevel::Info};
    settings.worker_user = proc::Credentials{65534, 65534, {}};
    auto plan = planLaunch(settings, s.app, s.config, s.environment, false, s.fds);
    CHECK(plan.spawn.no_new_privs);
    REQUIRE(plan.spawn.credentials);
    CHECK(plan.spawn.credentials->uid == 65534u);
    CHECK(plan.spawn.cgroup_procs.empty());
}

TEST_CASE("without cgroups the memory cap is RLIMIT_DATA: the default, the manifest's, none, lowMemory") {
    Sample s;
    LaunchSettings settings{"w", base::LogLevel::Info};
    settings.max_memory = kDefaultWorkerMaxMemory;
    CHECK(dataLimit(planLaunch(settings, s.app, s.config, s.environment, false, s.fds).spawn) == 512ull << 20);
    s.config.max_memory = 64ull << 20;
    CHECK(dataLimit(planLaunch(settings, s.app, s.config, s.environment, false, s.fds).spawn) == 64ull << 20);
    s.config.max_memory = 0;  // no cap
    CHECK_FALSE(dataLimit(planLaunch(settings, s.app, s.config, s.environment, false, s.fds).spawn));
    s.config.low_memory = true;  // lowMemory keeps its 256 MiB
    CHECK(dataLimit(planLaunch(settings, s.app, s.config, s.environment, false, s.fds).spawn) == 256ull << 20);
    s.config.max_memory = 100ull << 20;  // the smaller of the two
    CHECK(dataLimit(planLaunch(settings, s.app, s.config, s.environment, false, s.fds).spawn) == 100ull << 20);

    s.config = {};
    CHECK(recycleRssBytes(settings, s.config) == (512ull << 20) / 100 * 80);
    s.config.max_memory = 0;
    CHECK(recycleRssBytes(settings, s.config) == 0);
}

TEST_CASE("with cgroups the app's group carries memory.max and cpu.weight, and the worker joins it") {
    TempDir t;
    Sample s;
    auto settings = settingsFrom({}, fakeCgroups(t));
    REQUIRE(settings.cgroups);
    s.config.cpu_weight = 30;
    s.config.max_memory = 128ull << 20;
    auto plan = planLaunch(settings, s.app, s.config, s.environment, false, s.fds);
    CHECK(plan.spawn.cgroup_procs == t / "fs/svc/buntime-workers/hello@1.2.3/cgroup.procs");
    CHECK(readFile(t / "fs/svc/buntime-workers/hello@1.2.3/memory.max") == std::to_string(128ull << 20));
    CHECK(readFile(t / "fs/svc/buntime-workers/hello@1.2.3/cpu.weight") == "30");
    CHECK_FALSE(dataLimit(plan.spawn));  // the cgroup caps it, not an rlimit
}

TEST_CASE("launchSettings: RUNTIME_WORKER_MAX_MEMORY, RUNTIME_WORKER_ENV, defaults for bad values") {
    auto d = settingsFrom({}, kNoCgroups);
    CHECK(d.max_memory == kDefaultWorkerMaxMemory);
    CHECK(d.env_policy.mode == router::EnvPolicy::Mode::Deny);
    CHECK_FALSE(d.cgroups);
    CHECK(settingsFrom({"RUNTIME_WORKER_MAX_MEMORY=1gb"}, kNoCgroups).max_memory == 1ull << 30);
    CHECK(settingsFrom({"RUNTIME_WORKER_MAX_MEMORY=0"}, kNoCgroups).max_memory == 0);
    CHECK(settingsFrom({"RUNTIME_WORKER_MAX_MEMORY=lots"}, kNoCgroups).max_memory == kDefaultWorkerMaxMemory);
    CHECK(settingsFrom({"RUNTIME_WORKER_MAX_MEMORY=1kb"}, kNoCgroups).max_memory == kDefaultWorkerMaxMemory);
    auto allow = settingsFrom({"RUNTIME_WORKER_ENV=allow:PATH,LANG"}, kNoCgroups);
    CHECK(allow.env_policy.mode == router::EnvPolicy::Mode::Allow);
    CHECK(settingsFrom({"RUNTIME_WORKER_ENV=permit:X"}, kNoCgroups).env_policy.mode == router::EnvPolicy::Mode::Deny);

    Sample s;
    auto plan = planLaunch(allow, s.app, s.config, s.environment, false, s.fds);
    CHECK(std::count_if(plan.spawn.envp.begin(), plan.spawn.envp.end(),
                        [](const std::string& e) { return e.starts_with("HOME="); }) == 0);
    CHECK(plan.dropped_env == std::vector<std::string>{"PGPASSWORD"});
}

TEST_CASE("launchSettings: the worker user when root; a named user that does not exist is an error") {
    if (::geteuid() != 0) {
        auto s = settingsFrom({"RUNTIME_WORKER_USER=nobody"}, kNoCgroups);
        CHECK_FALSE(s.worker_user);  // not root: nothing to switch, a warning only
        return;
    }
    auto nobody = settingsFrom({"RUNTIME_WORKER_USER=nobody"}, kNoCgroups);
    REQUIRE(nobody.worker_user);
    CHECK(nobody.worker_user->uid == 65534u);
    CHECK(nobody.worker_user->gid == 65534u);
    auto numeric = settingsFrom({"RUNTIME_WORKER_USER=4242"}, kNoCgroups);
    REQUIRE(numeric.worker_user);
    CHECK(numeric.worker_user->uid == 4242u);
    CHECK_FALSE(settingsFrom({"RUNTIME_WORKER_USER=root"}, kNoCgroups).worker_user);
    auto missing = launchSettings({"RUNTIME_WORKER_USER=no-such-user-x"}, "w", base::LogLevel::Info, kNoCgroups);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().find("no such user") != std::string::npos);
}
