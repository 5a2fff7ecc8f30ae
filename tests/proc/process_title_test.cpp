// SPDX-License-Identifier: MIT
// base::setProcessTitle in a child spawned by proc::Process, as the supervisor's main does:
// cmdline and comm show the title, and the environment stays readable after the title took
// the environ area (tests/base/process_title_test.cpp covers the title on its own).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "buntime/proc/process.h"
#include "support.h"
#include "temp_dir.h"

using namespace buntime::proc;
using buntime::proc::test::selfExe;

TEST_CASE("setProcessTitle shows in cmdline and comm, using the environ area when argv is short") {
    for (bool shortArgv : {false, true}) {
        CAPTURE(shortArgv);
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        SpawnOptions o;
        o.executable = selfExe();
        o.argv = {shortArgv ? "x" : o.executable, "--title", std::to_string(fds[1])};
        if (!shortArgv) o.argv.push_back("padding-padding-padding");
        o.envp = {"BUNTIME_TITLE_TEST=kept-after-title"};
        o.pass_fds = {fds[1]};
        auto p = Process::spawn(o);
        ::close(fds[1]);
        REQUIRE(p);
        char buf[16] = {};
        CHECK(::read(fds[0], buf, sizeof buf - 1) == 2);
        ::close(fds[0]);
        CHECK(std::string(buf) == "ok");
        std::string base = "/proc/" + std::to_string(p->pid());
        std::string cmdline = buntime::test::readFile(base + "/cmdline");
        cmdline.erase(cmdline.find_last_not_of('\0') + 1);
        CHECK(cmdline == "buntime: supervisor");
        CHECK(buntime::test::readFile(base + "/comm") == "buntime: superv\n");
    }
}
