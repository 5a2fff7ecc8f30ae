// SPDX-License-Identifier: MIT
// Loopback listeners and free ports.
#include "ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdexcept>

#include "buntime/base/error.h"

namespace buntime::test {

base::UniqueFd listenLoopback(std::uint16_t* port) {
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw std::runtime_error(base::sysError("socket").message);
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error(base::sysError("bind 127.0.0.1:0").message);
    if (::listen(fd.get(), 64) != 0) throw std::runtime_error(base::sysError("listen").message);
    if (port) *port = boundPort(fd.get());
    return fd;
}

std::uint16_t boundPort(int fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
    return ntohs(addr.sin_port);
}

std::uint16_t freePort() {
    std::uint16_t port = 0;
    listenLoopback(&port);
    return port;
}

}  // namespace buntime::test
