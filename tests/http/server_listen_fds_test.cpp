// SPDX-License-Identifier: MIT
// systemd socket activation: adoption of an inherited listening socket at fd 3 (the
// LISTEN_PID/LISTEN_FDS parsing is proc::listenFds, tested in tests/proc).
#include <doctest/doctest.h>

#include "ports.h"
#include "test_client.h"

#include <fcntl.h>

using namespace buntime::http;
using namespace buntime::http::test;

TEST_CASE("LISTEN_FDS: a listening socket at fd 3 is adopted") {
    std::uint16_t port = 0;
    buntime::base::UniqueFd listener = buntime::test::listenLoopback(&port);

    // Put it at fd 3 as systemd would (saving whatever the test runner had there).
    buntime::base::UniqueFd saved(::fcntl(3, F_GETFD) >= 0 ? ::fcntl(3, F_DUPFD_CLOEXEC, 10) : -1);
    if (listener.get() != 3) {
        REQUIRE(::dup2(listener.get(), 3) == 3);
        listener.reset();
    } else {
        static_cast<void>(listener.release());  // the server adopts fd 3
    }

    {
        ServerConfig cfg;
        cfg.listen_tcp = false;
        cfg.inherited_fds = {3};
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
    if (saved) ::dup2(saved.get(), 3);
}

TEST_CASE("adopting something that is not a listening socket fails clearly") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    buntime::base::UniqueFd read_end(fds[0]), write_end(fds[1]);
    ServerConfig cfg;
    cfg.listen_tcp = false;
    cfg.inherited_fds = {read_end.get()};
    Server server(cfg, [](std::shared_ptr<Exchange> ex) { ex->respond(200); });
    auto r = server.start();
    REQUIRE(!r);
    CHECK(r.error().code == ServerErrc::AdoptFailed);
    CHECK(!r.error().message.empty());
    CHECK(::fcntl(read_end.get(), F_GETFD) >= 0);  // a failed adoption leaves the fd to its owner
}
