// SPDX-License-Identifier: MIT
// A spawned child process owned by a pidfd: spawn, signal, reap; kills and reaps on destruction.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <csignal>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "buntime/base/error.h"
#include "buntime/base/expected.h"
#include "buntime/base/unique_fd.h"

namespace buntime::proc {

// The error convention of proc: base::Expected, with SysError where a bare syscall failed.
using base::Expected;
using base::SysError;

// How a child ended.
struct ExitStatus {
    enum class Kind { Exited, Signaled, Unknown };  // Unknown: reaped by someone else (ECHILD)
    Kind kind = Kind::Unknown;
    int code = 0;    // exit code when Exited
    int signal = 0;  // terminating signal when Signaled

    bool exited() const noexcept { return kind == Kind::Exited; }
    bool signaled() const noexcept { return kind == Kind::Signaled; }
    std::string describe() const;  // "exited 0", "killed by SIGKILL", "unknown"
    bool operator==(const ExitStatus&) const = default;
};

struct ResourceLimit {
    int resource;  // RLIMIT_AS, RLIMIT_DATA, RLIMIT_NOFILE, RLIMIT_CORE, ...
    rlim_t soft;
    rlim_t hard;
};

enum class SpawnMethod {
    CloneVfork,  // clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD): cost independent of parent size
    Fork,        // fork() + pidfd_open(): reference path, copies page tables
};

// Who the child runs as after spawn (setgroups, setgid, setuid in the child). Only a
// privileged parent can switch; an unprivileged one gets SpawnStage::Credentials (EPERM).
struct Credentials {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary groups; empty clears them
};

// Special values for SpawnOptions::stdin_fd/stdout_fd/stderr_fd.
inline constexpr int kInheritFd = -1;  // keep the parent's 0/1/2
inline constexpr int kDevNull = -2;    // open /dev/null in the child

// Everything the child gets; the caller builds it (policy lives above this layer).
struct SpawnOptions {
    std::string executable;                  // path given to execve (no PATH search); a relative
                                             // path resolves after chdir(working_directory)
    std::vector<std::string> argv;           // argv[0] included; empty → {executable}
    std::vector<std::string> envp;           // the complete environment, "KEY=value" each
    std::string working_directory;           // empty: inherit
    std::vector<int> pass_fds;               // appear in the child at the same numbers (CLOEXEC
                                             // cleared there); every other fd >= 3 is closed
    std::vector<ResourceLimit> rlimits;      // applied with setrlimit before exec
    int death_signal = SIGKILL;              // PR_SET_PDEATHSIG; 0 disables. Fires when the
                                             // *thread* that spawned exits: spawn from a long-lived thread
    bool new_process_group = false;          // setpgid(0, 0)
    std::string cgroup_procs;                // a cgroup v2 "cgroup.procs" file the child joins
                                             // (writes "0") before anything else; empty: stay
    bool no_new_privs = false;               // PR_SET_NO_NEW_PRIVS: execve grants no privileges
    std::optional<Credentials> credentials;  // drop to this user (right after the cgroup)
    int stdin_fd = kDevNull;                 // an fd to dup2 onto 0, or kInheritFd / kDevNull
    int stdout_fd = kInheritFd;
    int stderr_fd = kInheritFd;
    SpawnMethod method = SpawnMethod::CloneVfork;
};

// --- Captured stdio ---------------------------------------------------------------------
// Two pipes for a child's stdout and stderr. The read ends are O_CLOEXEC and O_NONBLOCK (the
// supervisor reads them on its event loop); the write ends are O_CLOEXEC: give them to the
// child as SpawnOptions::stdout_fd/stderr_fd (dup2 clears the flag there) or to any other
// spawn path (a fork template), then close them in the parent so EOF arrives with the child.
struct StdioPipes {
    base::UniqueFd out_read;
    base::UniqueFd err_read;
    base::UniqueFd out_write;
    base::UniqueFd err_write;
};
Expected<StdioPipes, SysError> makeStdioPipes();

// Which step of the spawn failed.
enum class SpawnStage {
    Prepare,        // parent: bad options, mmap, clone/fork, pidfd_open
    ProcessGroup,   // child: setpgid
    DeathSignal,    // child: prctl(PR_SET_PDEATHSIG) or parent already gone
    ResourceLimit,  // child: setrlimit
    Cgroup,         // child: open or write cgroup.procs
    NoNewPrivs,     // child: prctl(PR_SET_NO_NEW_PRIVS)
    Credentials,    // child: setgroups, setgid or setuid
    Stdio,          // child: open /dev/null or dup2
    PassFds,        // child: fcntl(F_SETFD) on a passed fd (EBADF if it was not open)
    CloseFds,       // child: close_range
    ChangeDir,      // child: chdir
    Exec,           // child: execve
};
const char* spawnStageName(SpawnStage stage) noexcept;  // "execve", "chdir", ...

struct SpawnError {
    SpawnStage stage = SpawnStage::Prepare;
    int sys_errno = 0;
    std::string message;  // e.g. "spawn /x/worker: execve: No such file or directory"
};

// Owns one child process through its pidfd. Move-only.
// Thread-safety: none; use one Process from one thread (or strand) at a time.
// Nothing else in the process may reap it: no waitpid(-1), SIGCHLD not SIG_IGN.
class Process {
public:
    static Expected<Process, SpawnError> spawn(const SpawnOptions& options);
    // Takes ownership of a child that another process created for this one (a template's
    // clone(CLONE_PARENT)): pidfd_open(pid). Being our child, the pid is not reused before
    // we reap it.
    static Expected<Process, SysError> adopt(pid_t pid);

    Process() noexcept = default;  // empty: valid() == false
    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;  // kills and reaps the current child first
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();  // SIGKILL + blocking reap if still running

    bool valid() const noexcept { return pidfd_.valid(); }
    pid_t pid() const noexcept { return pid_; }
    int pidfd() const noexcept { return pidfd_.get(); }  // owned; CLOEXEC; readable once exited

    // Signals go through the pidfd (no pid-reuse race). False (errno set) on failure,
    // e.g. ESRCH once the child has been reaped.
    bool signal(int sig) noexcept;
    bool terminate() noexcept { return signal(SIGTERM); }
    bool kill() noexcept { return signal(SIGKILL); }

    // Non-blocking reap. nullopt while the child runs; afterwards the status (cached).
    std::optional<ExitStatus> tryReap() noexcept;
    // Blocking reap: for tests, tools and shutdown; never call it on an event loop.
    ExitStatus wait() noexcept;
    // The status once reaped, else nullopt. Does not reap.
    const std::optional<ExitStatus>& status() const noexcept { return status_; }

private:
    Process(pid_t pid, base::UniqueFd pidfd) noexcept : pid_(pid), pidfd_(std::move(pidfd)) {}
    void reset() noexcept;
    std::optional<ExitStatus> reap(bool block) noexcept;

    pid_t pid_ = -1;
    base::UniqueFd pidfd_;
    std::optional<ExitStatus> status_;
};

}  // namespace buntime::proc
