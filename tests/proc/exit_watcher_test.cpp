// SPDX-License-Identifier: MIT
// ExitWatcher: exit code and signal reported on the io_context, cancellation, many at once.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "buntime/proc/exit_watcher.h"
#include "buntime/proc/process.h"

using namespace buntime::proc;

namespace {

Process spawnShell(const std::string& script) {
    SpawnOptions o;
    o.executable = "/bin/sh";
    o.argv = {"sh", "-c", script};
    auto p = Process::spawn(o);
    REQUIRE_MESSAGE(p, (p ? "" : p.error().message));
    return std::move(*p);
}

Process spawnSleeper() {
    SpawnOptions o;
    o.executable = "/bin/sleep";
    o.argv = {"sleep", "30"};
    auto p = Process::spawn(o);
    REQUIRE_MESSAGE(p, (p ? "" : p.error().message));
    return std::move(*p);
}

}  // namespace

TEST_CASE("reports the exit code on the loop") {
    boost::asio::io_context io;
    auto p = spawnShell("exit 3");
    std::optional<ExitStatus> got;
    auto w = ExitWatcher::watch(io, p, [&](ExitStatus s) { got = s; });
    REQUIRE(w);
    CHECK(w->active());
    io.run();  // returns once the callback ran: the watcher was the only work
    REQUIRE(got);
    CHECK(got->exited());
    CHECK(got->code == 3);
    CHECK(!w->active());
    REQUIRE(p.status());  // the watcher reaped through the Process
    CHECK(*p.status() == *got);
}

TEST_CASE("reports the terminating signal") {
    boost::asio::io_context io;
    auto p = std::make_optional(spawnSleeper());
    std::optional<ExitStatus> got;
    auto w = ExitWatcher::watch(io, *p, [&](ExitStatus s) { got = s; });
    REQUIRE(w);
    boost::asio::post(io, [&] { CHECK(p->kill()); });
    io.run();
    REQUIRE(got);
    CHECK(got->signaled());
    CHECK(got->signal == SIGKILL);
}

TEST_CASE("cancel: the callback never runs and the loop has no work left") {
    boost::asio::io_context io;
    auto p = std::make_optional(spawnSleeper());
    bool called = false;
    auto w = ExitWatcher::watch(io, *p, [&](ExitStatus) { called = true; });
    REQUIRE(w);
    w->cancel();
    CHECK(!w->active());
    CHECK(p->kill());
    p->wait();
    io.run();  // would block forever if the wait were still registered
    CHECK(!called);
}

TEST_CASE("a process once watched is still reaped by a blocking wait and by its destructor") {
    // The watcher's dup shares the pidfd's file description and Asio made it non-blocking:
    // wait() must not give up with EAGAIN and leave a zombie.
    boost::asio::io_context io;
    auto p = std::make_optional(spawnSleeper());
    auto w = ExitWatcher::watch(io, *p, [](ExitStatus) {});
    REQUIRE(w);
    w->cancel();
    CHECK(p->signal(SIGTERM));
    const auto status = p->wait();
    CHECK(status.signaled());
    CHECK(status.signal == SIGTERM);

    auto q = std::make_optional(spawnSleeper());
    const auto pid = q->pid();
    {
        auto w2 = ExitWatcher::watch(io, *q, [](ExitStatus) {});
        REQUIRE(w2);
        Process gone = std::move(*q);  // destroyed while running: killed and reaped
    }
    CHECK(::kill(pid, 0) == -1);  // no zombie left behind
    CHECK(errno == ESRCH);
}

TEST_CASE("destroying the watcher cancels it") {
    boost::asio::io_context io;
    auto p = spawnShell("exit 0");
    bool called = false;
    {
        auto w = ExitWatcher::watch(io, p, [&](ExitStatus) { called = true; });
        REQUIRE(w);
    }
    p.wait();
    io.run();
    CHECK(!called);
}

TEST_CASE("an already reaped process gets its status posted") {
    boost::asio::io_context io;
    auto p = spawnShell("exit 5");
    p.wait();
    std::optional<ExitStatus> got;
    auto w = ExitWatcher::watch(io, p, [&](ExitStatus s) { got = s; });
    REQUIRE(w);
    io.run();
    REQUIRE(got);
    CHECK(got->code == 5);
}

TEST_CASE("many children watched at once, each with its own status") {
    boost::asio::io_context io;
    constexpr int kCount = 24;
    std::vector<Process> procs;
    procs.reserve(kCount);  // watchers hold Process addresses: no reallocation
    std::vector<std::optional<ExitStatus>> got(kCount);
    std::vector<ExitWatcher> watchers;
    // A safety net against a hang (not a speed check): cancelled when the last child is seen.
    boost::asio::steady_timer guard(io, std::chrono::seconds(20));
    bool timedOut = false;
    guard.async_wait([&](const boost::system::error_code& ec) {
        if (ec) return;
        timedOut = true;
        io.stop();
    });
    int seen = 0;
    for (int i = 0; i < kCount; ++i) {
        procs.push_back(spawnShell("exit " + std::to_string(i)));
        auto w = ExitWatcher::watch(io, procs.back(), [&, i](ExitStatus s) {
            got[i] = s;
            if (++seen == kCount) guard.cancel();
        });
        REQUIRE(w);
        watchers.push_back(std::move(*w));
    }
    io.run();
    CHECK(!timedOut);
    for (int i = 0; i < kCount; ++i) {
        CAPTURE(i);
        REQUIRE(got[i]);
        CHECK(got[i]->exited());
        CHECK(got[i]->code == i);
    }
}

TEST_CASE("watching an empty Process is an error value") {
    boost::asio::io_context io;
    Process empty;
    auto w = ExitWatcher::watch(io, empty, [](ExitStatus) {});
    REQUIRE(!w);
    CHECK(w.error().sys_errno == EBADF);
}
