// SPDX-License-Identifier: MIT
// acquireStateDir: mkdir 0700 + flock + pid file.
#include "buntime/proc/state_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "buntime/base/error.h"

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
    e.message = std::move(what) + ": " + base::errnoText(err);
    return e;
}

}  // namespace

StateDirLock::StateDirLock(StateDirLock&& other) noexcept
    : fd_(std::move(other.fd_)), dir_(std::move(other.dir_)), lockPath_(std::move(other.lockPath_)) {}

StateDirLock& StateDirLock::operator=(StateDirLock&& other) noexcept {
    if (this != &other) {
        release();
        fd_ = std::move(other.fd_);
        dir_ = std::move(other.dir_);
        lockPath_ = std::move(other.lockPath_);
    }
    return *this;
}

StateDirLock::~StateDirLock() { release(); }

void StateDirLock::release() noexcept {
    if (!fd_) return;
    [[maybe_unused]] int rc = ::ftruncate(fd_.get(), 0);
    fd_.reset();  // drops the flock
}

Expected<StateDirLock, StateDirError> acquireStateDir(const std::string& path) {
    if (path.empty()) return fail(StateDirErrc::CreateDir, EINVAL, "state dir: empty path");
    if (int err = makeDirs(path); err != 0) return fail(StateDirErrc::CreateDir, err, "state dir " + path);

    std::string lockPath = path + (path.back() == '/' ? "" : "/") + "buntime.lock";
    base::UniqueFd fd(::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return fail(StateDirErrc::OpenLock, errno, "open " + lockPath);

    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        if (err != EWOULDBLOCK) return fail(StateDirErrc::Locked, err, "flock " + lockPath);
        pid_t holder = 0;
        char buf[32] = {};
        ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
        if (n > 0) holder = static_cast<pid_t>(std::strtol(buf, nullptr, 10));
        StateDirError e{StateDirErrc::Locked, err, holder, {}};
        e.message = "another supervisor (pid " + (holder > 0 ? std::to_string(holder) : std::string("unknown")) +
                    ") holds " + lockPath;
        return e;
    }

    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) != 0 ||
        ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
        return fail(StateDirErrc::WritePid, errno, "write " + lockPath);

    StateDirLock lock;
    lock.fd_ = std::move(fd);
    lock.dir_ = path;
    lock.lockPath_ = std::move(lockPath);
    return lock;
}

}  // namespace buntime::proc
