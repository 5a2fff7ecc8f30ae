// SPDX-License-Identifier: MIT
// SOCK_SEQPACKET control sockets with SCM_RIGHTS, for template (zygote) processes.
#include "buntime/proc/zygote.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace buntime::proc {
namespace {

constexpr std::size_t kMaxFds = 16;

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
    if (fds.size() > kMaxFds) return base::sysError("sendmsg: too many descriptors", EINVAL);
    iovec iov{const_cast<std::byte*>(packet.data()), packet.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    for (;;) {
        const ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return {};
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return base::sysError("sendmsg");
        if (!waitFor(socket, POLLOUT, timeout)) return base::sysError("sendmsg");
    }
}

base::Expected<Packet, base::SysError> recvPacket(int socket, std::size_t max_bytes,
                                                  std::chrono::milliseconds timeout) {
    Packet out;
    out.bytes.resize(max_bytes + 1);
    iovec iov{out.bytes.data(), out.bytes.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    for (;;) {
        n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n >= 0) break;
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return base::sysError("recvmsg");
        if (!waitFor(socket, POLLIN, timeout)) return base::sysError("recvmsg");
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            out.fds.emplace_back(fd);
        }
    }
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC) || static_cast<std::size_t>(n) > max_bytes)
        return base::sysError("recvmsg: packet too long", EMSGSIZE);
    out.bytes.resize(static_cast<std::size_t>(n));
    out.eof = n == 0;
    return out;
}

}  // namespace buntime::proc
