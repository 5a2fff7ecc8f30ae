// SPDX-License-Identifier: MIT
// rssBytes: second field of /proc/<pid>/statm times the page size.
#include "buntime/proc/rss.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "buntime/base/unique_fd.h"

namespace buntime::proc {

namespace {

std::optional<std::uint64_t> readStatm(const char* path) noexcept {
    base::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    char buf[128];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    char* end = nullptr;
    std::strtoull(buf, &end, 10);  // size
    if (end == buf) return std::nullopt;
    char* start = end;
    unsigned long long resident = std::strtoull(start, &end, 10);
    if (end == start) return std::nullopt;
    static const long page = ::sysconf(_SC_PAGESIZE);
    return static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(page);
}

}  // namespace

std::optional<std::uint64_t> rssBytes(pid_t pid) noexcept {
    if (pid <= 0) return std::nullopt;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
    return readStatm(path);
}

std::optional<std::uint64_t> selfRssBytes() noexcept { return readStatm("/proc/self/statm"); }

}  // namespace buntime::proc
