// SPDX-License-Identifier: MIT
// Process spawning with clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD) or fork, plus pidfd signalling and reaping.
#include "buntime/proc/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "buntime/base/error.h"

namespace buntime::proc {

namespace {

// Everything the child needs, prepared in the parent so the child never allocates.
// With CLONE_VM the child writes failure (stage, errno) into this shared struct.
struct ChildArgs {
    const char* path = nullptr;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* cwd = nullptr;
    const int* pass_fds = nullptr;
    std::size_t pass_fd_count = 0;
    const ResourceLimit* rlimits = nullptr;
    std::size_t rlimit_count = 0;
    int death_signal = 0;
    const char* cgroup_procs = nullptr;
    bool no_new_privs = false;
    bool set_credentials = false;
    uid_t uid = 0;
    gid_t gid = 0;
    const gid_t* groups = nullptr;
    std::size_t group_count = 0;
    pid_t parent_pid = 0;
    bool new_process_group = false;
    int stdio[3] = {kInheritFd, kInheritFd, kInheritFd};
    sigset_t child_mask{};
    int error_pipe = -1;  // Fork method only: write end, CLOEXEC
    volatile int failed_stage = -1;
    volatile int failed_errno = 0;
};

struct ChildFailure {
    int stage;
    int err;
};

// Not instrumented by ASan, like childMain below (it runs on the child's stack too).
[[noreturn]] __attribute__((no_sanitize("address"))) void childFail(ChildArgs* a, SpawnStage stage) {
    int err = errno;
    a->failed_stage = static_cast<int>(stage);
    a->failed_errno = err;
    if (a->error_pipe >= 0) {
        ChildFailure f{static_cast<int>(stage), err};
        [[maybe_unused]] ssize_t n = ::write(a->error_pipe, &f, sizeof f);
    }
    ::_exit(127);
}

// Runs in the child between clone/fork and execve. Async-signal-safe calls only:
// with CLONE_VM it shares the parent's memory (the parent is suspended meanwhile).
// Not instrumented by ASan: on the clone()d stack ASan's no-return hook (before _exit/execve)
// asks sigaltstack for the thread's stack bounds, which are the parent's, and reports a false
// stack-buffer-underflow; nothing here allocates or touches heap memory ASan could check.
__attribute__((no_sanitize("address"))) int childMain(void* raw) {
    auto* a = static_cast<ChildArgs*>(raw);

    // All signals are blocked (the parent blocked them before clone). Reset every
    // disposition so that no parent handler can run on shared memory, and so the new
    // program starts clean (ignored signals would otherwise survive execve).
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for glibc-internal signals
    }

    // Join the cgroup first, so that every byte the new program allocates is charged to it.
    // Writing "0" moves the writing process (cgroup v2).
    if (a->cgroup_procs != nullptr) {
        int fd = ::open(a->cgroup_procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0) childFail(a, SpawnStage::Cgroup);
        if (::write(fd, "0", 1) != 1) childFail(a, SpawnStage::Cgroup);
        ::close(fd);
    }

    // Credentials before PR_SET_PDEATHSIG: a uid/gid change clears the death signal. Groups
    // before the uid: afterwards the child may no longer change them. Raw syscalls: glibc's
    // wrappers would broadcast the change to every thread of the process they believe they
    // are in, which with CLONE_VM is the supervisor.
    if (a->set_credentials) {
        if (::syscall(SYS_setgroups, a->group_count, a->groups) != 0) childFail(a, SpawnStage::Credentials);
        if (::syscall(SYS_setresgid, a->gid, a->gid, a->gid) != 0) childFail(a, SpawnStage::Credentials);
        if (::syscall(SYS_setresuid, a->uid, a->uid, a->uid) != 0) childFail(a, SpawnStage::Credentials);
    }
    if (a->no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) childFail(a, SpawnStage::NoNewPrivs);

    if (a->new_process_group && ::setpgid(0, 0) != 0) childFail(a, SpawnStage::ProcessGroup);

    if (a->death_signal != 0) {
        if (::prctl(PR_SET_PDEATHSIG, a->death_signal) != 0) childFail(a, SpawnStage::DeathSignal);
        if (::getppid() != a->parent_pid) {  // parent died before prctl took effect
            errno = ESRCH;
            childFail(a, SpawnStage::DeathSignal);
        }
    }

    for (std::size_t i = 0; i < a->rlimit_count; ++i) {
        struct rlimit rl {
            a->rlimits[i].soft, a->rlimits[i].hard
        };
        if (::setrlimit(a->rlimits[i].resource, &rl) != 0) childFail(a, SpawnStage::ResourceLimit);
    }

    for (int target = 0; target < 3; ++target) {
        int src = a->stdio[target];
        if (src == kInheritFd) continue;
        if (src == kDevNull) {
            src = ::open("/dev/null", target == 0 ? O_RDONLY : O_WRONLY);  // not CLOEXEC: closed below
            if (src < 0) childFail(a, SpawnStage::Stdio);
            if (src != target) {
                if (::dup2(src, target) < 0) childFail(a, SpawnStage::Stdio);
                ::close(src);
            }
        } else if (src == target) {
            if (::fcntl(target, F_SETFD, 0) != 0) childFail(a, SpawnStage::Stdio);
        } else if (::dup2(src, target) < 0) {  // dup2 clears FD_CLOEXEC on target
            childFail(a, SpawnStage::Stdio);
        }
    }

    // Every fd >= 3 gets CLOEXEC (the kernel closes them at execve), then exactly the
    // passed ones are cleared. Marking instead of closing keeps error_pipe usable.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        struct rlimit nofile {};
        if (::getrlimit(RLIMIT_NOFILE, &nofile) != 0) childFail(a, SpawnStage::CloseFds);
        rlim_t max = nofile.rlim_cur == RLIM_INFINITY ? 65536 : nofile.rlim_cur;
        for (rlim_t fd = 3; fd < max; ++fd) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    }
    for (std::size_t i = 0; i < a->pass_fd_count; ++i) {
        if (::fcntl(a->pass_fds[i], F_SETFD, 0) != 0) childFail(a, SpawnStage::PassFds);
    }

    if (a->cwd != nullptr && ::chdir(a->cwd) != 0) childFail(a, SpawnStage::ChangeDir);

    ::sigprocmask(SIG_SETMASK, &a->child_mask, nullptr);
    ::execve(a->path, a->argv, a->envp);
    childFail(a, SpawnStage::Exec);
}

int pidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

SpawnError makeError(SpawnStage stage, int err, const std::string& executable) {
    SpawnError e;
    e.stage = stage;
    e.sys_errno = err;
    e.message = "spawn " + executable + ": " + spawnStageName(stage) + ": " + base::errnoText(err);
    return e;
}

// Blocks every signal in this thread for the duration of the spawn; restores on scope exit.
class SignalBlock {
public:
    SignalBlock() {
        sigset_t all;
        sigfillset(&all);
        ::pthread_sigmask(SIG_SETMASK, &all, &saved_);
    }
    ~SignalBlock() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
    SignalBlock(const SignalBlock&) = delete;
    SignalBlock& operator=(const SignalBlock&) = delete;

private:
    sigset_t saved_;
};

void blockingReap(int pidfd) {
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) != 0 && errno == EINTR) {}
}

constexpr std::size_t kChildStackSize = 64 * 1024;

}  // namespace

const char* spawnStageName(SpawnStage stage) noexcept {
    switch (stage) {
    case SpawnStage::Prepare: return "prepare";
    case SpawnStage::ProcessGroup: return "setpgid";
    case SpawnStage::DeathSignal: return "prctl(PR_SET_PDEATHSIG)";
    case SpawnStage::ResourceLimit: return "setrlimit";
    case SpawnStage::Cgroup: return "cgroup.procs";
    case SpawnStage::NoNewPrivs: return "prctl(PR_SET_NO_NEW_PRIVS)";
    case SpawnStage::Credentials: return "setgroups/setgid/setuid";
    case SpawnStage::Stdio: return "stdio";
    case SpawnStage::PassFds: return "pass fd";
    case SpawnStage::CloseFds: return "close_range";
    case SpawnStage::ChangeDir: return "chdir";
    case SpawnStage::Exec: return "execve";
    }
    return "?";
}

std::string ExitStatus::describe() const {
    switch (kind) {
    case Kind::Exited: return "exited " + std::to_string(code);
    case Kind::Signaled: {
        const char* name = ::sigabbrev_np(signal);
        return std::string("killed by ") + (name ? std::string("SIG") + name : "signal " + std::to_string(signal));
    }
    case Kind::Unknown: break;
    }
    return "unknown";
}

Expected<StdioPipes, SysError> makeStdioPipes() {
    StdioPipes p;
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return base::sysError("pipe2 (stdout)", errno);
    p.out_read.reset(out[0]);
    p.out_write.reset(out[1]);
    if (::pipe2(err, O_CLOEXEC) != 0) return base::sysError("pipe2 (stderr)", errno);
    p.err_read.reset(err[0]);
    p.err_write.reset(err[1]);
    for (int fd : {p.out_read.get(), p.err_read.get()}) {
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
            return base::sysError("fcntl(O_NONBLOCK)", errno);
    }
    return p;
}

Expected<Process, SpawnError> Process::spawn(const SpawnOptions& options) {
    if (options.executable.empty()) return makeError(SpawnStage::Prepare, EINVAL, "(empty)");

    // argv/envp as NULL-terminated char* arrays pointing into the caller's strings.
    std::vector<char*> argv;
    if (options.argv.empty()) {
        argv.push_back(const_cast<char*>(options.executable.c_str()));
    } else {
        argv.reserve(options.argv.size() + 1);
        for (const auto& s : options.argv) argv.push_back(const_cast<char*>(s.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(options.envp.size() + 1);
    for (const auto& s : options.envp) envp.push_back(const_cast<char*>(s.c_str()));
    envp.push_back(nullptr);

    ChildArgs args;
    args.path = options.executable.c_str();
    args.argv = argv.data();
    args.envp = envp.data();
    args.cwd = options.working_directory.empty() ? nullptr : options.working_directory.c_str();
    args.pass_fds = options.pass_fds.data();
    args.pass_fd_count = options.pass_fds.size();
    args.rlimits = options.rlimits.data();
    args.rlimit_count = options.rlimits.size();
    args.death_signal = options.death_signal;
    args.parent_pid = ::getpid();
    args.new_process_group = options.new_process_group;
    args.cgroup_procs = options.cgroup_procs.empty() ? nullptr : options.cgroup_procs.c_str();
    args.no_new_privs = options.no_new_privs;
    if (options.credentials) {
        args.set_credentials = true;
        args.uid = options.credentials->uid;
        args.gid = options.credentials->gid;
        args.groups = options.credentials->groups.data();
        args.group_count = options.credentials->groups.size();
    }
    args.stdio[0] = options.stdin_fd;
    args.stdio[1] = options.stdout_fd;
    args.stdio[2] = options.stderr_fd;
    sigemptyset(&args.child_mask);  // the new program starts with no blocked signals

    if (options.method == SpawnMethod::CloneVfork) {
        void* stack =
            ::mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED) return makeError(SpawnStage::Prepare, errno, options.executable);
        int raw_pidfd = -1;
        pid_t pid;
        {
            SignalBlock block;
            // The parent sleeps until the child execs or exits (CLONE_VFORK).
            pid = ::clone(childMain, static_cast<char*>(stack) + kChildStackSize,
                          CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &args, &raw_pidfd);
        }
        int clone_errno = errno;
        ::munmap(stack, kChildStackSize);
        if (pid < 0) return makeError(SpawnStage::Prepare, clone_errno, options.executable);
        base::UniqueFd pidfd(raw_pidfd);
        if (args.failed_stage >= 0) {
            blockingReap(pidfd.get());  // it already called _exit(127)
            return makeError(static_cast<SpawnStage>(args.failed_stage), args.failed_errno, options.executable);
        }
        return Process(pid, std::move(pidfd));
    }

    // Fork: failures come back through a CLOEXEC pipe; EOF means execve succeeded.
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return makeError(SpawnStage::Prepare, errno, options.executable);
    base::UniqueFd error_read(pipe_fds[0]);
    base::UniqueFd error_write(pipe_fds[1]);
    args.error_pipe = error_write.get();
    pid_t pid;
    {
        SignalBlock block;
        pid = ::fork();
        if (pid == 0) childMain(&args);  // never returns: the child's copies are never destroyed
    }
    int fork_errno = errno;
    error_write.reset();
    if (pid < 0) return makeError(SpawnStage::Prepare, fork_errno, options.executable);
    ChildFailure failure{};
    ssize_t n;
    do {
        n = ::read(error_read.get(), &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    error_read.reset();
    base::UniqueFd pidfd(pidfdOpen(pid));
    if (!pidfd) {
        int err = errno;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        return makeError(SpawnStage::Prepare, err, options.executable);
    }
    if (n == static_cast<ssize_t>(sizeof failure)) {
        blockingReap(pidfd.get());
        return makeError(static_cast<SpawnStage>(failure.stage), failure.err, options.executable);
    }
    return Process(pid, std::move(pidfd));
}

Expected<Process, SysError> Process::adopt(pid_t pid) {
    base::UniqueFd pidfd(pidfdOpen(pid));
    if (!pidfd) return base::sysError("pidfd_open " + std::to_string(pid));
    return Process(pid, std::move(pidfd));
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      status_(std::exchange(other.status_, std::nullopt)) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        reset();
        pid_ = std::exchange(other.pid_, -1);
        pidfd_ = std::move(other.pidfd_);
        status_ = std::exchange(other.status_, std::nullopt);
    }
    return *this;
}

Process::~Process() { reset(); }

void Process::reset() noexcept {
    if (!pidfd_) return;
    if (!status_) {
        signal(SIGKILL);
        reap(true);
    }
    pidfd_.reset();
    pid_ = -1;
    status_.reset();
}

bool Process::signal(int sig) noexcept {
    if (!pidfd_) {
        errno = EBADF;
        return false;
    }
    if (status_) {
        errno = ESRCH;
        return false;
    }
    return ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) == 0;
}

std::optional<ExitStatus> Process::tryReap() noexcept { return reap(false); }

ExitStatus Process::wait() noexcept {
    auto s = reap(true);
    return s ? *s : ExitStatus{};
}

std::optional<ExitStatus> Process::reap(bool block) noexcept {
    if (status_ || !pidfd_) return status_;
    siginfo_t info{};
    int flags = WEXITED | (block ? 0 : WNOHANG);
    int rc;
    for (;;) {
        rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, flags);
        if (rc == 0 || errno == EINTR) {
            if (rc == 0) break;
            continue;
        }
        // An ExitWatcher's dup shares this descriptor's file description, and Asio made it
        // O_NONBLOCK: a blocking wait then gets EAGAIN while the child runs. Wait for the
        // pidfd to turn readable (the child exited) instead.
        if (!block || errno != EAGAIN) break;
        pollfd p{pidfd_.get(), POLLIN, 0};
        while (::poll(&p, 1, -1) < 0 && errno == EINTR) {}
    }
    if (rc != 0) {
        if (errno == ECHILD) status_ = ExitStatus{};  // reaped elsewhere: status unknowable
        return status_;
    }
    if (info.si_pid == 0) return std::nullopt;  // WNOHANG, still running
    ExitStatus s;
    if (info.si_code == CLD_EXITED) {
        s.kind = ExitStatus::Kind::Exited;
        s.code = info.si_status;
    } else {
        s.kind = ExitStatus::Kind::Signaled;
        s.signal = info.si_status;
    }
    status_ = s;
    return status_;
}

}  // namespace buntime::proc
