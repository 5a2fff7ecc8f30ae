// SPDX-License-Identifier: MIT
// SOCK_SEQPACKET control sockets with SCM_RIGHTS, for template (zygote) processes.
#include "buntime/proc/zygote.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "buntime/base/fd_passing.h"

namespace buntime::proc {
namespace {

// Waits until `fd` is ready for `events`; false with errno ETIMEDOUT (or poll's) otherwise.
bool waitFor(int fd, short events, std::chrono::milliseconds timeout) {
    pollfd p{fd, events, 0};
    for (;;) {
        const int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (rc > 0) return true;
        if (rc == 0) {
            errno = ETIMEDOUT;
            return false;
        }
        if (errno != EINTR) return false;
    }
}

}  // namespace

base::Expected<ControlPair, base::SysError> controlPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
        return base::sysError("socketpair(SOCK_SEQPACKET)");
    return ControlPair{base::UniqueFd(fds[0]), base::UniqueFd(fds[1])};
}

base::Expected<void, base::SysError> sendPacket(int socket, std::span<const std::byte> packet, std::span<const int> fds,
                                                std::chrono::milliseconds timeout) {
    for (;;) {
        auto sent = base::sendWithFds(socket, packet, fds, MSG_DONTWAIT);
        if (sent || sent.error().sys_errno != EAGAIN) return sent;
        if (!waitFor(socket, POLLOUT, timeout)) return base::sysError("sendmsg");
    }
}

base::Expected<Packet, base::SysError> recvPacket(int socket, std::size_t max_bytes,
                                                  std::chrono::milliseconds timeout) {
    Packet out;
    out.bytes.resize(max_bytes + 1);
    for (;;) {
        auto got = base::receiveWithFds(socket, out.bytes, out.fds, MSG_DONTWAIT);
        if (!got) {
            if (got.error().sys_errno != EAGAIN) return got.error();
            if (!waitFor(socket, POLLIN, timeout)) return base::sysError("recvmsg");
            continue;
        }
        if (got->truncated || got->size > max_bytes) return base::sysError("recvmsg: packet too long", EMSGSIZE);
        out.bytes.resize(got->size);
        out.eof = got->size == 0;
        return out;
    }
}

}  // namespace buntime::proc
