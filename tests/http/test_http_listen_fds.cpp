// SPDX-License-Identifier: MIT
// systemd socket activation: adoption of an inherited listening socket at fd 3 (the
// LISTEN_PID/LISTEN_FDS parsing is proc::listenFds, tested in tests/proc).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "test_client.h"

#include <fcntl.h>

using namespace buntime::http;
using namespace buntime::http::test;

TEST_CASE("LISTEN_FDS: a listening socket at fd 3 is adopted") {
    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(lfd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(lfd, 16) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    std::uint16_t port = ntohs(a.sin_port);

    // Put it at fd 3 as systemd would (saving whatever the test runner had there).
    int saved = ::fcntl(3, F_GETFD) >= 0 ? ::fcntl(3, F_DUPFD_CLOEXEC, 10) : -1;
    if (lfd != 3) {
        REQUIRE(::dup2(lfd, 3) == 3);
        ::close(lfd);
    }

    std::vector<int> fds{3};

    {
        ServerConfig cfg;
        cfg.listen_tcp = false;
        cfg.inherited_fds = fds;
        Server server(cfg, [](std::shared_ptr<Exchange> ex) { ex->respond(200, {}, "adopted"); });
        auto r = server.start();
        REQUIRE(r);
        CHECK(server.port() == port);
        server.runInThreads();
        Client c(port);
        REQUIRE(c.connected());
        auto resp = c.request(get("/"));
        REQUIRE(resp);
        CHECK(resp->body == "adopted");
        server.stop();
        server.join();
    }
    if (saved >= 0) {
        ::dup2(saved, 3);
        ::close(saved);
    }
}

TEST_CASE("adopting something that is not a listening socket fails clearly") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    ServerConfig cfg;
    cfg.listen_tcp = false;
    cfg.inherited_fds = {fds[0]};
    Server server(cfg, [](std::shared_ptr<Exchange> ex) { ex->respond(200); });
    auto r = server.start();
    CHECK(r.code == ServerErrc::AdoptFailed);
    CHECK(!r.message.empty());
    ::close(fds[0]);
    ::close(fds[1]);
}
