// SPDX-License-Identifier: MIT
// base::sendWithFds / receiveWithFds: one packet, its descriptors, truncation, limits.
#include "buntime/base/fd_passing.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string_view>

using namespace buntime::base;

namespace {

struct Pair {
    UniqueFd a, b;
};

Pair seqpacketPair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::span<const std::byte> bytesOf(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

ino_t inodeOf(int fd) {
    struct stat st {};
    REQUIRE(::fstat(fd, &st) == 0);
    return st.st_ino;
}

}  // namespace

TEST_CASE("a packet and its descriptors arrive together, close-on-exec") {
    auto [a, b] = seqpacketPair();
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);
    const int passed[] = {r.get(), w.get()};
    REQUIRE(sendWithFds(a.get(), bytesOf("hello"), passed));

    std::array<std::byte, 64> buf{};
    std::vector<UniqueFd> fds;
    auto got = receiveWithFds(b.get(), buf, fds);
    REQUIRE(got);
    CHECK(got->size == 5);
    CHECK_FALSE(got->truncated);
    CHECK(std::string_view(reinterpret_cast<const char*>(buf.data()), got->size) == "hello");
    REQUIRE(fds.size() == 2);
    CHECK(inodeOf(fds[0].get()) == inodeOf(r.get()));
    CHECK(inodeOf(fds[1].get()) == inodeOf(w.get()));
    CHECK((::fcntl(fds[0].get(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("a packet longer than the buffer is reported truncated; EOF is size 0") {
    auto [a, b] = seqpacketPair();
    REQUIRE(sendWithFds(a.get(), bytesOf("0123456789"), {}));
    std::array<std::byte, 4> small{};
    std::vector<UniqueFd> fds;
    auto got = receiveWithFds(b.get(), small, fds);
    REQUIRE(got);
    CHECK(got->truncated);
    a.reset();
    got = receiveWithFds(b.get(), small, fds);
    REQUIRE(got);
    CHECK(got->size == 0);
}

TEST_CASE("errors are values: too many descriptors, nothing to read, a closed peer") {
    auto [a, b] = seqpacketPair();
    std::vector<int> many(kMaxPassedFds + 1, 0);
    auto sent = sendWithFds(a.get(), bytesOf("x"), many);
    REQUIRE_FALSE(sent);
    CHECK(sent.error().sys_errno == EINVAL);

    std::array<std::byte, 8> buf{};
    std::vector<UniqueFd> fds;
    auto got = receiveWithFds(b.get(), buf, fds, MSG_DONTWAIT);
    REQUIRE_FALSE(got);
    CHECK(got.error().sys_errno == EAGAIN);

    b.reset();
    sent = sendWithFds(a.get(), bytesOf("x"), {});
    REQUIRE_FALSE(sent);
    CHECK(sent.error().sys_errno == EPIPE);  // MSG_NOSIGNAL: an error, not SIGPIPE
}
