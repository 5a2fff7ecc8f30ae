// SPDX-License-Identifier: MIT
// The template loop: Hello, then a clone(CLONE_PARENT) child per Fork request.
#include "zygote.h"

#include <dirent.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "buntime/base/fd_passing.h"
#include "buntime/base/log.h"
#include "buntime/base/uuid.h"
#include "buntime/proto/control.h"
#include "buntime/proto/launch.h"
#include "buntime/proto/zygote.h"
#include "log.h"

namespace buntime::worker {
namespace {

// One packet, with `fds` in SCM_RIGHTS; false when the peer is gone.
bool sendMessage(int socket, const proto::ZygoteMessage& m, const std::vector<int>& fds = {}) {
    const auto packet = proto::encodeZygote(m);
    return base::sendWithFds(socket, proto::bytesOf(packet), fds).has_value();
}

// One packet with its descriptors; false on EOF or error (the supervisor is gone).
bool receive(int control, proto::ZygoteMessage& out, std::vector<int>& fds) {
    fds.clear();
    std::byte buf[proto::kMaxZygotePacket + 1];
    std::vector<base::UniqueFd> received;
    auto got = base::receiveWithFds(control, buf, received);
    for (auto& fd : received) fds.push_back(fd.release());
    if (!got || got->size == 0) return false;
    auto decoded = proto::decodeZygote({buf, got->size});
    if (!decoded || got->truncated) {
        BUNTIME_LOG(Error, "template: malformed control message (%zu bytes); ignored", got->size);
        out = {};
        out.kind = proto::ZygoteKind::Hello;  // not Fork: the caller ignores it
        return true;
    }
    out = std::move(*decoded);
    return true;
}

void closeAll(const std::vector<int>& fds) {
    for (int fd : fds) ::close(fd);
}

std::uint64_t randomWord() {
    std::uint64_t v = 0;
    if (::getrandom(&v, sizeof v, 0) != sizeof v) v ^= static_cast<std::uint64_t>(::getpid()) * 0x9E3779B97F4A7C15ull;
    return v;
}

// The signal mask right after the app's init. Dispositions need no saving: the template
// only reads its socket and forks, so every child inherits the post-init ones, which is
// what an exec'd worker has when it starts serving (pending signals are not inherited).
sigset_t& savedMask() {
    static sigset_t mask{};
    return mask;
}

void saveSignals() { ::sigprocmask(SIG_SETMASK, nullptr, &savedMask()); }

// Everything a child must not share with its siblings or keep from the template; what
// does not depend on the Fork's descriptors (a parked child does this ahead of demand).
void resetChild(pid_t supervisor, int control) {
    ::close(control);
    ::sigprocmask(SIG_SETMASK, &savedMask(), nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != supervisor) ::_exit(0);
    // Fresh randomness: the template's seeds were copied into every child.
    const auto seed = randomWord();
    ::srandom(static_cast<unsigned>(seed));
    ::srand(static_cast<unsigned>(seed >> 32));
    ::srand48(static_cast<long>(randomWord()));
    ::setenv("WORKER_ID", randomUuid().c_str(), 1);
    ::unsetenv(proto::kZygoteEnv);
    if (const char* bind = std::getenv("LD_BIND_NOW"); bind && std::strcmp(bind, proto::kZygoteBindNow) == 0)
        ::unsetenv("LD_BIND_NOW");
}

// The Fork's descriptors put in place: stdout/stderr, BUNTIME_CHANNEL, the log level.
ForkedChild takeDescriptors(const proto::ZygoteMessage& m, const std::vector<int>& fds) {
    constexpr std::size_t out = proto::kZygoteChannelFds, err = out + 1;  // optional, after the channel's
    if (fds.size() > out && fds[out] != 1) ::dup2(fds[out], 1);
    if (fds.size() > err && fds[err] != 2) ::dup2(fds[err], 2);
    for (std::size_t i = out; i < fds.size(); ++i)
        if (fds[i] > 2) ::close(fds[i]);
    ForkedChild child;
    child.channel = {fds[0], fds[1], fds[2], fds[3], fds[4]};
    child.log_level = m.log == proto::kZygoteKeepLogLevel ? -1 : m.log;
    ::setenv(proto::kChannelEnv, child.channel.toString().c_str(), 1);
    if (child.log_level >= 0) base::setLogLevel(static_cast<base::LogLevel>(child.log_level));
    return child;
}

bool validFork(const proto::ZygoteMessage& m, const std::vector<int>& fds) {
    return m.kind == proto::ZygoteKind::Fork && fds.size() >= proto::kZygoteChannelFds && fds.size() == m.fds;
}

// In a parked child: waits for the supervisor's Fork; exits when the socket closes first.
ForkedChild waitParked(int socket) {
    proto::ZygoteMessage m;
    std::vector<int> fds;
    if (!receive(socket, m, fds) || !validFork(m, fds)) ::_exit(0);
    ::close(socket);
    return takeDescriptors(m, fds);
}

}  // namespace

int zygoteControlFd() {
    const char* text = std::getenv(proto::kZygoteEnv);
    if (!text) return -1;
    char* end = nullptr;
    const long fd = std::strtol(text, &end, 10);
    if (!*text || *end || fd < 3 || fd > 1 << 20) return -2;
    return static_cast<int>(fd);
}

int threadCount() {
    DIR* d = ::opendir("/proc/self/task");
    if (!d) return 0;
    int n = 0;
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n;
}

std::string randomUuid() {
    const std::uint64_t hi = randomWord(), lo = randomWord();
    return base::formatUuidV4(hi, lo);
}

void refuseTemplate(int control, const std::string& reason, int threads) {
    BUNTIME_LOG(Warn, "template refused: %s", reason.c_str());
    proto::ZygoteMessage m;
    m.kind = proto::ZygoteKind::Refused;
    m.value = threads;
    m.text = reason;
    sendMessage(control, m);
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(0);
}

ForkedChild runTemplate(int control, const std::function<void(const char* role)>& retitle) {
    const pid_t supervisor = ::getppid();
    saveSignals();
    if (const int threads = threadCount(); threads != 1)
        refuseTemplate(control,
                       "the app started threads during init (" + std::to_string(threads) +
                           " in /proc/self/task): a multi-threaded process cannot be forked safely",
                       threads);
    proto::ZygoteMessage hello;
    hello.kind = proto::ZygoteKind::Hello;
    hello.value = ::getpid();
    sendMessage(control, hello);
    std::fflush(stdout);
    std::fflush(stderr);

    proto::ZygoteMessage m;
    std::vector<int> fds;
    while (receive(control, m, fds)) {
        if (m.kind == proto::ZygoteKind::Park && fds.empty()) {
            for (int i = 0; i < std::clamp(m.value, 0, proto::kZygoteMaxParked); ++i) {
                proto::ZygoteMessage note;
                note.kind = proto::ZygoteKind::Parked;
                int pair[2];
                if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
                    note.value = -errno;
                    sendMessage(control, note);
                    continue;
                }
                const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
                if (pid == 0) {
                    ::close(pair[0]);
                    resetChild(supervisor, control);
                    retitle("parked");
                    return waitParked(pair[1]);
                }
                note.value = pid > 0 ? static_cast<std::int32_t>(pid) : -errno;
                ::close(pair[1]);
                sendMessage(control, note, pid > 0 ? std::vector<int>{pair[0]} : std::vector<int>{});
                ::close(pair[0]);  // the supervisor holds the child's socket now
            }
            continue;
        }
        if (!validFork(m, fds)) {
            if (m.kind == proto::ZygoteKind::Fork) {
                proto::ZygoteMessage reply{proto::ZygoteKind::Forked,
                                           0,
                                           0,
                                           m.seq,
                                           -EINVAL,
                                           "Fork needs 5 to 7 descriptors, got " + std::to_string(fds.size())};
                sendMessage(control, reply);
            }
            closeAll(fds);
            continue;
        }
        // spawn (fork path): the child is the supervisor's (CLONE_PARENT); no exec, no relocation.
        const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
        if (pid == 0) {
            resetChild(supervisor, control);
            return takeDescriptors(m, fds);
        }
        const int err = errno;
        closeAll(fds);
        proto::ZygoteMessage reply;
        reply.kind = proto::ZygoteKind::Forked;
        reply.seq = m.seq;
        reply.value = pid > 0 ? static_cast<std::int32_t>(pid) : -err;
        if (pid < 0) reply.text = std::string("clone: ") + std::strerror(err);
        sendMessage(control, reply);
    }
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(0);
}

}  // namespace buntime::worker
