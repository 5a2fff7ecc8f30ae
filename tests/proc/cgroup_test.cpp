// SPDX-License-Identifier: MIT
// WorkerCgroups against a directory that imitates cgroupfs: detection, the reasons it gives
// up, moving the supervisor into a leaf, per-app memory.max and cpu.weight.
#include <doctest/doctest.h>

#include <string>

#include "buntime/proc/cgroup.h"
#include "temp_dir.h"

using namespace buntime::proc;
using buntime::test::readFile;
using buntime::test::TempDir;

namespace {

// A fake /proc/self/cgroup and mountinfo with cgroup2 mounted at <root>/fs.
CgroupSources fakeSources(const TempDir& t, const std::string& self_cgroup) {
    t.write("proc/cgroup", self_cgroup);
    t.write("proc/mountinfo",
            "22 1 0:20 / /sys rw,relatime shared:7 - sysfs sysfs rw\n"
            "30 22 0:26 / " +
                t.path() + "/fs rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n");
    return {t / "proc/cgroup", t / "proc/mountinfo"};
}

}  // namespace

TEST_CASE("cgroupName keeps name@version and replaces the rest") {
    CHECK(cgroupName("hello@1.0.0") == "hello@1.0.0");
    CHECK(cgroupName("a/b c") == "a_b_c");
    CHECK(cgroupName("..") == "_..");
    CHECK(cgroupName("") == "_");
    CHECK(cgroupName("x\xff") == "x_");
}

TEST_CASE("no cgroup v2, or no memory/cpu controller: a reason, nothing created") {
    TempDir t;
    auto v1 = WorkerCgroups::setUp(fakeSources(t, "4:memory:/x\n1:cpu:/\n"));
    REQUIRE_FALSE(v1);
    CHECK(v1.error().message == "no cgroup v2 hierarchy (cgroup v1 only)");

    t.write("fs/svc/cgroup.controllers", "hugetlb\n");
    t.write("fs/svc/cgroup.subtree_control", "");
    auto hybrid = WorkerCgroups::setUp(fakeSources(t, "4:memory:/x\n0::/svc\n"));
    REQUIRE_FALSE(hybrid);
    CHECK(hybrid.error().message.find("lacks the memory and cpu controllers (it has: hugetlb)") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(t / "fs/svc/buntime-workers"));

    TempDir none;
    auto unmounted = WorkerCgroups::setUp({none / "nothing", none / "nothing"});
    REQUIRE_FALSE(unmounted);
    CHECK(unmounted.error().message.find("cannot read") != std::string::npos);
}

TEST_CASE("a delegated group: the supervisor moves to a leaf, controllers are enabled, apps get limits") {
    TempDir t;
    t.write("fs/svc/cgroup.controllers", "cpuset cpu io memory pids\n");
    t.write("fs/svc/cgroup.subtree_control", "");
    t.write("fs/svc/cgroup.procs", "1234\n");
    auto cg = WorkerCgroups::setUp(fakeSources(t, "0::/svc\n"));
    REQUIRE_MESSAGE(cg, cg.error().message);
    CHECK(cg->movedSupervisor());
    CHECK(readFile(t / "fs/svc/supervisor/cgroup.procs") == "0");
    CHECK(readFile(t / "fs/svc/cgroup.subtree_control") == "+memory +cpu");
    CHECK(cg->workersDir() == t / "fs/svc/buntime-workers");
    CHECK(readFile(t / "fs/svc/buntime-workers/cgroup.subtree_control") == "+memory +cpu");

    auto procs = cg->appGroup("hello@1.0.0", 512ull << 20, 100);
    REQUIRE_MESSAGE(procs, procs.error().message);
    CHECK(*procs == t / "fs/svc/buntime-workers/hello@1.0.0/cgroup.procs");
    CHECK(readFile(t / "fs/svc/buntime-workers/hello@1.0.0/memory.max") == "536870912");
    CHECK(readFile(t / "fs/svc/buntime-workers/hello@1.0.0/cpu.weight") == "100");
    // Updating: a changed manifest rewrites the values; 0 means no memory cap.
    REQUIRE(cg->appGroup("hello@1.0.0", 0, 20));
    CHECK(readFile(t / "fs/svc/buntime-workers/hello@1.0.0/memory.max") == "max");
    CHECK(readFile(t / "fs/svc/buntime-workers/hello@1.0.0/cpu.weight") == "20");
}

TEST_CASE("controllers already enabled: nobody moves; an unwritable group is refused") {
    TempDir t;
    t.write("fs/svc/cgroup.controllers", "cpu memory\n");
    t.write("fs/svc/cgroup.subtree_control", "cpu memory\n");
    auto cg = WorkerCgroups::setUp(fakeSources(t, "0::/svc\n"));
    REQUIRE_MESSAGE(cg, cg.error().message);
    CHECK_FALSE(cg->movedSupervisor());
    CHECK_FALSE(std::filesystem::exists(t / "fs/svc/supervisor"));

    if (::geteuid() != 0) {  // root writes anyway: access(W_OK) cannot refuse it
        std::filesystem::permissions(t / "fs/svc",
                                     std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
        auto ro = WorkerCgroups::setUp(fakeSources(t, "0::/svc\n"));
        REQUIRE_FALSE(ro);
        CHECK(ro.error().message.find("not writable") != std::string::npos);
    }
}
