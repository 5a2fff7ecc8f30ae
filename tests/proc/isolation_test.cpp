// SPDX-License-Identifier: MIT
// Worker isolation in Process::spawn: no_new_privs, a user switch, joining a cgroup, and why
// a non-dumpable parent matters (a child of the same uid cannot read its /proc files).
#include <doctest/doctest.h>

#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "buntime/proc/process.h"
#include "support.h"
#include "temp_dir.h"

using namespace buntime::proc;
using buntime::proc::test::runCapture;

namespace {

constexpr uid_t kNobody = 65534;  // Debian's nobody:nogroup; a user without privileges
constexpr SpawnMethod kMethods[] = {SpawnMethod::CloneVfork, SpawnMethod::Fork};

SpawnOptions shell(const std::string& script, SpawnMethod method) {
    SpawnOptions o;
    o.executable = "/bin/sh";
    o.argv = {"sh", "-c", script};
    o.envp = {"PATH=/usr/bin:/bin", "SECRET_OF_PARENT=hunter2"};
    o.method = method;
    return o;
}

std::string statusField(const std::string& status, const std::string& key) {
    auto at = status.find(key + ":");
    if (at == std::string::npos) return {};
    auto end = status.find('\n', at);
    auto value = status.substr(at + key.size() + 1, end - at - key.size() - 1);
    while (!value.empty() && (value[0] == '\t' || value[0] == ' ')) value.erase(0, 1);
    return value;
}

// In a forked helper that runs as `nobody` (dumpable or not), spawns a child of the same uid
// that tries to read the helper's environ; returns what the child printed.
std::string sameUidChildReadsParent(bool parent_dumpable) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t helper = ::fork();
    REQUIRE(helper >= 0);
    if (helper == 0) {
        ::close(fds[0]);
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
            ::setresuid(kNobody, kNobody, kNobody) != 0)
            ::_exit(3);
        ::prctl(PR_SET_DUMPABLE, parent_dumpable ? 1 : 0);
        auto o = shell("cat /proc/$PPID/environ >/dev/null 2>&1 && echo read || echo denied", SpawnMethod::Fork);
        o.stdout_fd = fds[1];
        auto p = Process::spawn(o);
        if (!p) ::_exit(4);
        p->wait();
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[256];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int st = 0;
    ::waitpid(helper, &st, 0);
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace

TEST_CASE("no_new_privs is set in the child when asked, and only then") {
    for (auto method : kMethods) {
        CAPTURE(static_cast<int>(method));
        auto o = shell("cat /proc/self/status", method);
        o.no_new_privs = true;
        auto on = runCapture(o);
        REQUIRE(on.spawned);
        CHECK(statusField(on.out, "NoNewPrivs") == "1");
        if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0) {  // the test itself runs without it
            auto off = runCapture(shell("cat /proc/self/status", method));
            CHECK(statusField(off.out, "NoNewPrivs") == "0");
        }
    }
}

TEST_CASE("credentials: the child runs as the given user; the parent and its threads keep theirs") {
    if (::geteuid() != 0) {
        // Unprivileged: the switch must fail as a spawn error at its own stage.
        auto o = shell("true", SpawnMethod::CloneVfork);
        o.credentials = Credentials{kNobody, kNobody, {}};
        auto p = Process::spawn(o);
        REQUIRE_FALSE(p);
        CHECK(p.error().stage == SpawnStage::Credentials);
        return;
    }
    for (auto method : kMethods) {
        CAPTURE(static_cast<int>(method));
        // A second thread in the parent: glibc's setuid would have changed it too (CLONE_VM).
        std::atomic<bool> stop{false};
        std::atomic<pid_t> tid{0};
        std::thread other([&] {
            tid = ::gettid();
            while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
        while (tid == 0) std::this_thread::yield();
        auto o = shell("id -u; id -g; id -G; cat /proc/self/status", method);
        o.credentials = Credentials{kNobody, kNobody, {}};
        o.no_new_privs = true;
        auto c = runCapture(o);
        REQUIRE(c.spawned);
        CHECK(c.out.starts_with("65534\n65534\n65534\n"));
        CHECK(statusField(c.out, "Uid") == "65534\t65534\t65534\t65534");
        CHECK(statusField(c.out, "CapEff") == "0000000000000000");
        CHECK(::getuid() == 0);
        CHECK(::geteuid() == 0);
        const auto thread_status = buntime::test::readFile("/proc/self/task/" + std::to_string(tid.load()) + "/status");
        CHECK(statusField(thread_status, "Uid") == "0\t0\t0\t0");
        stop = true;
        other.join();
    }
}

TEST_CASE("a non-dumpable parent's /proc files are closed to a child of the same uid") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: needs root to run the helper as nobody");
        return;
    }
    // Same uid, dumpable: the child reads the parent's environment (what issue 11 reproduced).
    CHECK(sameUidChildReadsParent(true) == "read");
    // PR_SET_DUMPABLE 0, as the supervisor sets at start: denied.
    CHECK(sameUidChildReadsParent(false) == "denied");
}

TEST_CASE("cgroup_procs: the child writes \"0\" (itself) before exec; a bad path is a Cgroup error") {
    buntime::test::TempDir dir;
    for (auto method : kMethods) {
        CAPTURE(static_cast<int>(method));
        const auto procs = dir.write("group/cgroup.procs", "");
        auto o = shell("echo ran", method);
        o.cgroup_procs = procs.string();
        auto c = runCapture(o);
        REQUIRE(c.spawned);
        CHECK(c.out == "ran\n");
        CHECK(buntime::test::readFile(procs) == "0");

        o.cgroup_procs = dir / "missing/cgroup.procs";
        auto p = Process::spawn(o);
        REQUIRE_FALSE(p);
        CHECK(p.error().stage == SpawnStage::Cgroup);
        CHECK(p.error().message.find("cgroup.procs") != std::string::npos);
    }
}
