// SPDX-License-Identifier: MIT
// acquireStateDir: create, lock, conflict message, release.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "buntime/proc/state_dir.h"
#include "temp_dir.h"

using namespace buntime::proc;
using buntime::test::readFile;
using buntime::test::TempDir;

namespace {

void touch(const std::string& path) { std::ofstream(path) << "x"; }

}  // namespace

TEST_CASE("creates the directory 0700 and writes our pid into the lock file") {
    TempDir tmp;
    std::string dir = tmp.path() + "/a/state";
    auto lock = acquireStateDir(dir);
    REQUIRE_MESSAGE(lock, (lock ? "" : lock.error().message));
    CHECK(lock->held());
    CHECK(lock->lockPath() == dir + "/buntime.lock");
    struct stat st {};
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(readFile(dir + "/buntime.lock") == std::to_string(::getpid()) + "\n");
}

TEST_CASE("a second holder gets a clear error naming the pid and the lock file") {
    TempDir tmp;
    auto first = acquireStateDir(tmp.path());
    REQUIRE(first);
    // flock belongs to the open file description: a second open in-process conflicts.
    auto second = acquireStateDir(tmp.path());
    REQUIRE(!second);
    CHECK(second.error().code == StateDirErrc::Locked);
    CHECK(second.error().holder_pid == ::getpid());
    CHECK(second.error().message ==
          "another supervisor (pid " + std::to_string(::getpid()) + ") holds " + tmp.path() + "/buntime.lock");

    first->release();
    CHECK(!first->held());
    auto third = acquireStateDir(tmp.path());
    REQUIRE(third);
    CHECK(third->held());
}

TEST_CASE("moving the lock keeps it held; destruction releases it") {
    TempDir tmp;
    {
        auto lock = acquireStateDir(tmp.path());
        REQUIRE(lock);
        StateDirLock moved = std::move(*lock);
        CHECK(moved.held());
        CHECK(!lock->held());
        CHECK(!acquireStateDir(tmp.path()));
    }
    CHECK(acquireStateDir(tmp.path()));
}

TEST_CASE("a path that is a file is an error value") {
    TempDir tmp;
    std::string file = tmp.path() + "/file";
    touch(file);
    auto lock = acquireStateDir(file);
    REQUIRE(!lock);
    CHECK(lock.error().code == StateDirErrc::CreateDir);
    CHECK(lock.error().sys_errno == ENOTDIR);
}
