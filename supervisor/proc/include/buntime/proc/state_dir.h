// SPDX-License-Identifier: MIT
// The supervisor's state directory lock: one supervisor per state dir.
#pragma once

#include <sys/types.h>

#include <string>

#include "buntime/base/expected.h"
#include "buntime/base/unique_fd.h"

namespace buntime::proc {

using base::Expected;

enum class StateDirErrc {
    CreateDir,  // mkdir failed (or path exists and is not a directory)
    OpenLock,   // open of <dir>/buntime.lock failed
    Locked,     // another open file description holds the flock
    WritePid,   // truncate/write of the pid failed
};

struct StateDirError {
    StateDirErrc code;
    int sys_errno = 0;
    pid_t holder_pid = 0;  // Locked: pid read from the lock file, 0 if unreadable
    std::string message;   // Locked: "another supervisor (pid N) holds /x/buntime.lock"
};

// Holds flock(LOCK_EX) on <dir>/buntime.lock, which contains our pid. Move-only.
// Releasing (destruction) empties the file and closes it; the file itself stays, so a
// concurrent starter never locks an unlinked inode. The fd is CLOEXEC (workers don't
// inherit the lock). Thread-safety: none needed, it is immutable after acquisition.
class StateDirLock {
public:
    StateDirLock() noexcept = default;
    StateDirLock(StateDirLock&& other) noexcept;
    StateDirLock& operator=(StateDirLock&& other) noexcept;
    StateDirLock(const StateDirLock&) = delete;
    StateDirLock& operator=(const StateDirLock&) = delete;
    ~StateDirLock();

    bool held() const noexcept { return fd_.valid(); }
    const std::string& dir() const noexcept { return dir_; }
    const std::string& lockPath() const noexcept { return lockPath_; }
    void release() noexcept;

private:
    friend Expected<StateDirLock, StateDirError> acquireStateDir(const std::string& path);
    base::UniqueFd fd_;
    std::string dir_;
    std::string lockPath_;
};

// Creates `path` (mode 0700, parents too) if missing, then locks <path>/buntime.lock
// without blocking and writes getpid() into it.
Expected<StateDirLock, StateDirError> acquireStateDir(const std::string& path);

}  // namespace buntime::proc
