// SPDX-License-Identifier: MIT
// Process::spawn: argv/env/cwd, fd passing and closing, rlimits, signals, reaping, errors.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "buntime/proc/process.h"
#include "support.h"
#include "temp_dir.h"

using namespace buntime::proc;
using buntime::proc::test::runCapture;
using buntime::proc::test::selfExe;

namespace {

constexpr SpawnMethod kMethods[] = {SpawnMethod::CloneVfork, SpawnMethod::Fork};

const char* name(SpawnMethod m) { return m == SpawnMethod::CloneVfork ? "clone-vfork" : "fork"; }

SpawnOptions shell(const std::string& script, SpawnMethod method) {
    SpawnOptions o;
    o.executable = "/bin/sh";
    o.argv = {"sh", "-c", script};
    o.envp = {"PATH=/usr/bin:/bin"};
    o.method = method;
    return o;
}

SpawnOptions sleeper(SpawnMethod method, const char* secs = "30") {
    SpawnOptions o;
    o.executable = "/bin/sleep";
    o.argv = {"sleep", secs};
    o.method = method;
    return o;
}

// True when this process has no child left (running or zombie).
bool noChildren() {
    siginfo_t info{};
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

int openFdCount() {
    int n = 0;
    for (int fd = 0; fd < 1024; ++fd) n += ::fcntl(fd, F_GETFD) >= 0 ? 1 : 0;
    return n;
}

}  // namespace

TEST_CASE("argv, envp and working directory reach the child exactly") {
    buntime::test::TempDir tmp;
    const std::string dir = std::filesystem::canonical(tmp.root()).string();  // what pwd prints
    ::setenv("BUNTIME_PARENT_ONLY", "leak", 1);
    for (auto m : kMethods) {
        CAPTURE(name(m));
        auto o = shell("printf '%s|%s|%s|%s|' \"$0\" \"$1\" \"$FOO\" \"${BUNTIME_PARENT_ONLY-unset}\"; pwd", m);
        o.argv.push_back("arg0");
        o.argv.push_back("arg one");
        o.envp.push_back("FOO=bar baz");
        o.working_directory = dir;
        auto c = runCapture(o);
        REQUIRE_MESSAGE(c.spawned, c.error);
        CHECK(c.out == "arg0|arg one|bar baz|unset|" + dir + "\n");
        CHECK(c.status == ExitStatus{ExitStatus::Kind::Exited, 0, 0});
    }
    ::unsetenv("BUNTIME_PARENT_ONLY");
}

TEST_CASE("exit code is reported") {
    for (auto m : kMethods) {
        CAPTURE(name(m));
        auto p = Process::spawn(shell("exit 7", m));
        REQUIRE_MESSAGE(p, (p ? "" : p.error().message));
        auto s = p->wait();
        CHECK(s.exited());
        CHECK(s.code == 7);
        CHECK(s.describe() == "exited 7");
        REQUIRE(p->status());
        CHECK(*p->status() == s);
        CHECK(p->tryReap() == s);  // cached after the reap
    }
}

TEST_CASE("a passed fd keeps its number and works; every other fd is closed") {
    int pipeFds[2];
    REQUIRE(::pipe2(pipeFds, O_CLOEXEC) == 0);
    int passed = ::fcntl(pipeFds[1], F_DUPFD_CLOEXEC, 40);  // CLOEXEC in the parent
    int leaky = ::fcntl(pipeFds[1], F_DUPFD, 50);           // not CLOEXEC: must still be closed
    int cloexec = ::fcntl(pipeFds[1], F_DUPFD_CLOEXEC, 60);
    REQUIRE(passed >= 40);
    REQUIRE(leaky >= 50);
    REQUIRE(cloexec >= 60);
    ::close(pipeFds[1]);

    for (auto m : kMethods) {
        CAPTURE(name(m));
        SpawnOptions o;
        o.executable = selfExe();
        o.argv = {o.executable, "--list-fds", std::to_string(passed)};
        o.pass_fds = {passed};
        o.method = m;
        auto c = runCapture(o);
        REQUIRE_MESSAGE(c.spawned, c.error);
        CHECK(c.status.exited());
        CHECK(c.status.code == 0);
        CHECK(c.out == "0 1 2 " + std::to_string(passed));
        char buf[16] = {};
        CHECK(::read(pipeFds[0], buf, sizeof buf) == 6);
        CHECK(std::string(buf) == "via-fd");
    }
    // The parent's fd is still CLOEXEC: passing clears the flag only in the child.
    CHECK(::fcntl(passed, F_GETFD) == FD_CLOEXEC);
    ::close(passed);
    ::close(leaky);
    ::close(cloexec);
    ::close(pipeFds[0]);
}

TEST_CASE("resource limits are applied before exec") {
    for (auto m : kMethods) {
        CAPTURE(name(m));
        auto o = shell("ulimit -n; ulimit -c; ulimit -v", m);
        o.rlimits = {{RLIMIT_NOFILE, 64, 64}, {RLIMIT_CORE, 0, 0}, {RLIMIT_AS, 1ULL << 30, 1ULL << 30}};
        auto c = runCapture(o);
        REQUIRE_MESSAGE(c.spawned, c.error);
        CHECK(c.out == "64\n0\n1048576\n");
    }
}

TEST_CASE("failures are error values naming the stage and errno, and leave no child") {
    for (auto m : kMethods) {
        CAPTURE(name(m));
        SpawnOptions o;
        o.executable = "/nonexistent/buntime-worker";
        o.method = m;
        auto p = Process::spawn(o);
        REQUIRE(!p);
        CHECK(p.error().stage == SpawnStage::Exec);
        CHECK(p.error().sys_errno == ENOENT);
        CHECK(p.error().message.find("/nonexistent/buntime-worker") != std::string::npos);
        CHECK(p.error().message.find("execve") != std::string::npos);

        auto cwd = shell("true", m);
        cwd.working_directory = "/nonexistent-dir";
        auto q = Process::spawn(cwd);
        REQUIRE(!q);
        CHECK(q.error().stage == SpawnStage::ChangeDir);
        CHECK(q.error().sys_errno == ENOENT);

        auto badFd = shell("true", m);
        badFd.pass_fds = {900};  // not open in the parent
        auto r = Process::spawn(badFd);
        REQUIRE(!r);
        CHECK(r.error().stage == SpawnStage::PassFds);
        CHECK(r.error().sys_errno == EBADF);

        auto rl = shell("true", m);
        rl.rlimits = {{RLIMIT_NOFILE, 100, 50}};  // soft above hard
        auto s = Process::spawn(rl);
        REQUIRE(!s);
        CHECK(s.error().stage == SpawnStage::ResourceLimit);
        CHECK(s.error().sys_errno == EINVAL);

        CHECK(noChildren());
    }
    SpawnOptions empty;
    auto e = Process::spawn(empty);
    REQUIRE(!e);
    CHECK(e.error().stage == SpawnStage::Prepare);
}

TEST_CASE("terminate and kill deliver SIGTERM and SIGKILL; tryReap does not block") {
    for (auto m : kMethods) {
        CAPTURE(name(m));
        auto p = Process::spawn(sleeper(m));
        REQUIRE(p);
        CHECK(p->pid() > 0);
        CHECK(p->pidfd() >= 0);
        CHECK(!p->tryReap());  // sleep 30 is still running
        CHECK(p->terminate());
        auto s = p->wait();
        CHECK(s.signaled());
        CHECK(s.signal == SIGTERM);
        CHECK(s.describe() == "killed by SIGTERM");
        CHECK(!p->kill());  // already reaped
        CHECK(errno == ESRCH);

        auto q = Process::spawn(sleeper(m));
        REQUIRE(q);
        CHECK(q->kill());
        CHECK(q->wait() == ExitStatus{ExitStatus::Kind::Signaled, 0, SIGKILL});
    }
}

TEST_CASE("the destructor kills and reaps a running child") {
    for (auto m : kMethods) {
        CAPTURE(name(m));
        pid_t pid;
        {
            auto p = Process::spawn(sleeper(m));
            REQUIRE(p);
            pid = p->pid();
            CHECK(::kill(pid, 0) == 0);
        }
        CHECK(::kill(pid, 0) == -1);
        CHECK(errno == ESRCH);  // not even a zombie
        CHECK(noChildren());
    }
}

TEST_CASE("moving a Process transfers ownership") {
    auto p = Process::spawn(sleeper(SpawnMethod::CloneVfork));
    REQUIRE(p);
    pid_t pid = p->pid();
    Process a = std::move(*p);
    CHECK(!p->valid());
    CHECK(a.valid());
    CHECK(a.pid() == pid);
    Process b;
    CHECK(!b.valid());
    b = std::move(a);
    CHECK(b.pid() == pid);
    CHECK(::kill(pid, 0) == 0);
    auto other = Process::spawn(sleeper(SpawnMethod::CloneVfork));
    REQUIRE(other);
    pid_t otherPid = other->pid();
    b = std::move(*other);  // the previous child is killed and reaped first
    CHECK(::kill(pid, 0) == -1);
    CHECK(b.pid() == otherPid);
}

TEST_CASE("new process group on request") {
    for (auto m : kMethods) {
        CAPTURE(name(m));
        auto o = sleeper(m);
        o.new_process_group = true;
        auto p = Process::spawn(o);
        REQUIRE(p);
        CHECK(::getpgid(p->pid()) == p->pid());
        auto q = Process::spawn(sleeper(m));
        REQUIRE(q);
        CHECK(::getpgid(q->pid()) == ::getpgrp());
    }
}

TEST_CASE("the child starts with default dispositions and an empty signal mask") {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    struct sigaction oldUsr1 {};
    ::sigaction(SIGUSR1, &ign, &oldUsr1);
    sigset_t usr2, oldMask;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    ::pthread_sigmask(SIG_BLOCK, &usr2, &oldMask);
    for (auto m : kMethods) {
        CAPTURE(name(m));
        SpawnOptions o;
        o.executable = "/bin/grep";
        o.argv = {"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"};
        o.method = m;
        auto c = runCapture(o);
        REQUIRE_MESSAGE(c.spawned, c.error);
        CHECK(c.out == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    }
    ::pthread_sigmask(SIG_SETMASK, &oldMask, nullptr);
    ::sigaction(SIGUSR1, &oldUsr1, nullptr);
}

TEST_CASE("stdin defaults to /dev/null") {
    auto c = runCapture(shell("readlink /proc/self/fd/0", SpawnMethod::CloneVfork));
    REQUIRE_MESSAGE(c.spawned, c.error);
    CHECK(c.out == "/dev/null\n");
}

TEST_CASE("repeated spawns leak neither fds nor children") {
    int before = openFdCount();
    for (int i = 0; i < 200; ++i) {
        SpawnOptions o;
        o.executable = "/bin/true";
        o.method = i % 2 ? SpawnMethod::Fork : SpawnMethod::CloneVfork;
        auto p = Process::spawn(o);
        REQUIRE(p);
        REQUIRE(p->wait() == ExitStatus{ExitStatus::Kind::Exited, 0, 0});
    }
    CHECK(openFdCount() == before);
    CHECK(noChildren());
}

TEST_CASE("spawn is safe from several threads at once") {
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&ok, t] {
            for (int i = 0; i < 25; ++i) {
                SpawnOptions o;
                o.executable = "/bin/sh";
                o.argv = {"sh", "-c", "exit " + std::to_string(t * 25 + i)};
                o.method = t % 2 ? SpawnMethod::Fork : SpawnMethod::CloneVfork;
                auto p = Process::spawn(o);
                if (p && p->wait() == ExitStatus{ExitStatus::Kind::Exited, t * 25 + i, 0}) ++ok;
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(ok == 100);
    CHECK(noChildren());
}

TEST_CASE("parent death delivers SIGKILL to the grandchild") {
    // Become the subreaper so the orphaned grandchild is reparented to us and can be reaped.
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    SpawnOptions o;
    o.executable = selfExe();
    o.argv = {o.executable, "--pdeath-middle", std::to_string(fds[1])};
    o.pass_fds = {fds[1]};
    auto middle = Process::spawn(o);
    ::close(fds[1]);
    REQUIRE(middle);
    std::string line;
    char ch;
    while (::read(fds[0], &ch, 1) == 1 && ch != '\n') line += ch;
    ::close(fds[0]);
    pid_t grandchild = static_cast<pid_t>(std::atoi(line.c_str()));
    REQUIRE(grandchild > 0);
    int gfd = static_cast<int>(::syscall(SYS_pidfd_open, grandchild, 0));
    REQUIRE(gfd >= 0);

    CHECK(middle->kill());
    CHECK(middle->wait().signal == SIGKILL);

    pollfd pfd{gfd, POLLIN, 0};
    bool died = ::poll(&pfd, 1, 20000) == 1;  // safety timeout only
    CHECK(died);
    if (!died) ::syscall(SYS_pidfd_send_signal, gfd, SIGTERM, nullptr, 0);  // don't leak it
    siginfo_t info{};
    REQUIRE(::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(gfd), &info, WEXITED) == 0);
    CHECK(info.si_code == CLD_KILLED);
    CHECK(info.si_status == SIGKILL);
    ::close(gfd);
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}
