// SPDX-License-Identifier: MIT
// SCM_RIGHTS packets.
#include "buntime/base/fd_passing.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace buntime::base {

Expected<void, SysError> sendWithFds(int socket, std::span<const std::byte> bytes, std::span<const int> fds,
                                     int flags) {
    if (fds.size() > kMaxPassedFds) return sysError("sendmsg: too many descriptors", EINVAL);
    iovec iov{const_cast<std::byte*>(bytes.data()), bytes.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
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
        if (::sendmsg(socket, &msg, MSG_NOSIGNAL | flags) >= 0) return {};
        if (errno != EINTR) return sysError("sendmsg");
    }
}

Expected<ReceivedPacket, SysError> receiveWithFds(int socket, std::span<std::byte> buffer, std::vector<UniqueFd>& fds,
                                                  int flags) {
    iovec iov{buffer.data(), buffer.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC | flags);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return sysError("recvmsg");
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fds.emplace_back(fd);
        }
    }
    return ReceivedPacket{static_cast<std::size_t>(n), (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0};
}

}  // namespace buntime::base
