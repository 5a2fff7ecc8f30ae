// SPDX-License-Identifier: MIT
// notify() to a datagram socket (path and abstract), watchdogInterval and listenFds parsing.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "buntime/proc/systemd.h"
#include "temp_dir.h"

using namespace buntime::proc;

namespace {

// A bound SOCK_DGRAM socket; `name` starting with '@' is abstract.
int boundSocket(const std::string& name) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    bool abstract = name[0] == '@';
    if (abstract) addr.sun_path[0] = '\0';
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    return fd;
}

std::string receive(int fd) {
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

TEST_CASE("notify is a no-op returning false without NOTIFY_SOCKET") {
    ::unsetenv("NOTIFY_SOCKET");
    CHECK(!notify("READY=1"));
    ::setenv("NOTIFY_SOCKET", "relative/path", 1);
    CHECK(!notify("READY=1"));
    ::unsetenv("NOTIFY_SOCKET");
}

TEST_CASE("notify sends one datagram to a path socket") {
    buntime::test::TempDir tmp;
    std::string path = tmp.path() + "/notify.sock";
    int fd = boundSocket(path);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    CHECK(notify("READY=1"));
    CHECK(receive(fd) == "READY=1");
    CHECK(notify("STATUS=serving 3 apps\nMAINPID=42"));
    CHECK(receive(fd) == "STATUS=serving 3 apps\nMAINPID=42");
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd);
}

TEST_CASE("notify sends to an abstract socket") {
    std::string name = "@buntime-proc-test-" + std::to_string(::getpid());
    int fd = boundSocket(name);
    ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
    CHECK(notify("WATCHDOG=1"));
    CHECK(receive(fd) == "WATCHDOG=1");
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd);
}

TEST_CASE("notify to a socket nobody listens on fails") {
    buntime::test::TempDir tmp;
    std::string path = tmp.path() + "/absent.sock";
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    CHECK(!notify("READY=1"));
    ::unsetenv("NOTIFY_SOCKET");
}

TEST_CASE("watchdogInterval parses WATCHDOG_USEC and honours WATCHDOG_PID") {
    std::string self = std::to_string(::getpid());
    ::unsetenv("WATCHDOG_PID");
    ::unsetenv("WATCHDOG_USEC");
    CHECK(!watchdogInterval());
    ::setenv("WATCHDOG_USEC", "2000000", 1);
    CHECK(watchdogInterval() == std::chrono::microseconds(2000000));
    ::setenv("WATCHDOG_PID", self.c_str(), 1);
    CHECK(watchdogInterval() == std::chrono::seconds(2));
    ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
    CHECK(!watchdogInterval());
    ::setenv("WATCHDOG_PID", "junk", 1);
    CHECK(!watchdogInterval());
    ::unsetenv("WATCHDOG_PID");
    for (const char* bad : {"0", "abc", "-5", "12x", ""}) {
        CAPTURE(bad);
        ::setenv("WATCHDOG_USEC", bad, 1);
        CHECK(!watchdogInterval());
    }
    ::unsetenv("WATCHDOG_USEC");
}

TEST_CASE("listenFds returns fds from 3 for our pid and unsets the variables") {
    // Make sure fds 3 and 4 exist (they may already be open in the test runner).
    for (int fd : {3, 4}) {
        if (::fcntl(fd, F_GETFD) < 0) {
            int n = ::open("/dev/null", O_RDONLY);
            REQUIRE(n >= 0);
            if (n != fd) {
                REQUIRE(::dup3(n, fd, 0) == fd);
                ::close(n);
            }
            ::fcntl(fd, F_SETFD, 0);
        }
    }
    std::string self = std::to_string(::getpid());
    ::setenv("LISTEN_PID", self.c_str(), 1);
    ::setenv("LISTEN_FDS", "2", 1);
    ::setenv("LISTEN_FDNAMES", "http:admin", 1);
    CHECK(listenFds() == std::vector<int>{3, 4});
    CHECK(::fcntl(3, F_GETFD) == FD_CLOEXEC);
    CHECK(::fcntl(4, F_GETFD) == FD_CLOEXEC);
    CHECK(std::getenv("LISTEN_PID") == nullptr);
    CHECK(std::getenv("LISTEN_FDS") == nullptr);
    CHECK(std::getenv("LISTEN_FDNAMES") == nullptr);
    CHECK(listenFds().empty());  // the variables are gone

    ::setenv("LISTEN_PID", std::to_string(::getpid() + 1).c_str(), 1);
    ::setenv("LISTEN_FDS", "2", 1);
    CHECK(listenFds().empty());  // meant for another process
    CHECK(std::getenv("LISTEN_FDS") == nullptr);

    ::setenv("LISTEN_PID", self.c_str(), 1);
    ::setenv("LISTEN_FDS", "two", 1);
    CHECK(listenFds().empty());
}
