// SPDX-License-Identifier: MIT
// acquireStateDir (mkdir 0700 + flock + pid file) and purgeStaleSegments (dead-owner cleanup).
#include "buntime/proc/state_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace buntime::proc {

namespace {

// mkdir -p with mode 0700 for every component created.
int makeDirs(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    for (std::size_t pos = 1; pos <= path.size(); ++pos) {
        if (pos != path.size() && path[pos] != '/') continue;
        std::string prefix = path.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return errno;
    }
    if (::stat(path.c_str(), &st) != 0) return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

StateDirError fail(StateDirErrc code, int err, std::string what) {
    StateDirError e{code, err, 0, {}};
    e.message = std::move(what) + ": " + std::strerror(err);
    return e;
}

bool pidAlive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

StateDirLock::StateDirLock(StateDirLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), dir_(std::move(other.dir_)), lockPath_(std::move(other.lockPath_)) {}

StateDirLock& StateDirLock::operator=(StateDirLock&& other) noexcept {
    if (this != &other) {
        release();
        fd_ = std::exchange(other.fd_, -1);
        dir_ = std::move(other.dir_);
        lockPath_ = std::move(other.lockPath_);
    }
    return *this;
}

StateDirLock::~StateDirLock() { release(); }

void StateDirLock::release() noexcept {
    if (fd_ < 0) return;
    [[maybe_unused]] int rc = ::ftruncate(fd_, 0);
    ::close(fd_);  // drops the flock
    fd_ = -1;
}

Expected<StateDirLock, StateDirError> acquireStateDir(const std::string& path) {
    if (path.empty()) return fail(StateDirErrc::CreateDir, EINVAL, "state dir: empty path");
    if (int err = makeDirs(path); err != 0) return fail(StateDirErrc::CreateDir, err, "state dir " + path);

    std::string lockPath = path + (path.back() == '/' ? "" : "/") + "buntime.lock";
    int fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return fail(StateDirErrc::OpenLock, errno, "open " + lockPath);

    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        pid_t holder = 0;
        if (err == EWOULDBLOCK) {
            char buf[32] = {};
            ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
            if (n > 0) holder = static_cast<pid_t>(std::strtol(buf, nullptr, 10));
        }
        ::close(fd);
        if (err != EWOULDBLOCK) return fail(StateDirErrc::Locked, err, "flock " + lockPath);
        StateDirError e{StateDirErrc::Locked, err, holder, {}};
        e.message = "another supervisor (pid " + (holder > 0 ? std::to_string(holder) : std::string("unknown")) +
                    ") holds " + lockPath;
        return e;
    }

    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        int err = errno;
        ::close(fd);
        return fail(StateDirErrc::WritePid, err, "write " + lockPath);
    }

    StateDirLock lock;
    lock.fd_ = fd;
    lock.dir_ = path;
    lock.lockPath_ = std::move(lockPath);
    return lock;
}

std::size_t purgeStaleSegments(std::string_view prefix, const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return 0;
    std::size_t removed = 0;
    while (dirent* e = ::readdir(d)) {
        std::string_view name(e->d_name);
        if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
        std::string_view rest = name.substr(prefix.size());
        std::size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
        if (digits == 0 || digits > 9 || (digits < rest.size() && rest[digits] != '-')) continue;
        pid_t pid = static_cast<pid_t>(std::strtol(std::string(rest.substr(0, digits)).c_str(), nullptr, 10));
        if (pid <= 0 || pidAlive(pid)) continue;
        if (::unlinkat(::dirfd(d), e->d_name, 0) == 0) ++removed;
    }
    ::closedir(d);
    return removed;
}

}  // namespace buntime::proc
