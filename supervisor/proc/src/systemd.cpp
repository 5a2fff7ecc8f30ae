// SPDX-License-Identifier: MIT
// notify/watchdogInterval/listenFds: the sd_notify and sd_listen_fds protocols in a few syscalls.
#include "buntime/proc/systemd.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "buntime/base/unique_fd.h"

namespace buntime::proc {

namespace {

// Strict decimal parse of an environment value; nullopt on anything else.
std::optional<unsigned long long> envNumber(const char* name) noexcept {
    const char* v = ::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    for (const char* p = v; *p; ++p) {
        if (*p < '0' || *p > '9') return std::nullopt;
    }
    errno = 0;
    unsigned long long n = std::strtoull(v, nullptr, 10);
    if (errno == ERANGE) return std::nullopt;
    return n;
}

}  // namespace

bool notify(std::string_view message) noexcept {
    const char* path = ::getenv("NOTIFY_SOCKET");
    if (path == nullptr || (path[0] != '/' && path[0] != '@')) return false;
    std::size_t len = std::strlen(path);
    sockaddr_un addr{};
    if (len >= sizeof addr.sun_path) return false;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path, len);
    if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace: no terminating NUL
    auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len + (path[0] == '/' ? 1 : 0));

    base::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return false;
    ssize_t n = ::sendto(fd.get(), message.data(), message.size(), MSG_NOSIGNAL,
                         reinterpret_cast<const sockaddr*>(&addr), addr_len);
    return n == static_cast<ssize_t>(message.size());
}

std::optional<std::chrono::microseconds> watchdogInterval() noexcept {
    auto usec = envNumber("WATCHDOG_USEC");
    if (!usec || *usec == 0) return std::nullopt;
    if (::getenv("WATCHDOG_PID") != nullptr) {
        auto pid = envNumber("WATCHDOG_PID");
        if (!pid || *pid != static_cast<unsigned long long>(::getpid())) return std::nullopt;
    }
    return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(*usec));
}

std::vector<int> listenFds() {
    std::vector<int> fds;
    auto pid = envNumber("LISTEN_PID");
    auto count = envNumber("LISTEN_FDS");
    if (pid && *pid == static_cast<unsigned long long>(::getpid()) && count && *count < 4096) {
        for (int fd = 3; fd < 3 + static_cast<int>(*count); ++fd) {
            if (::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0) fds.push_back(fd);
        }
    }
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    return fds;
}

}  // namespace buntime::proc
