// SPDX-License-Identifier: MIT
// The HTTP front under cheap denial of service: slow request bodies (408 and close), and
// idle connections that must not lock new clients out (per-address cap, idle eviction).
#include <doctest/doctest.h>

#include "test_client.h"

#include <atomic>
#include <thread>

using namespace buntime::http;
using namespace buntime::http::test;
using namespace std::chrono_literals;

namespace {

// Reads the whole body, then answers 200 with its length.
void countBody(std::shared_ptr<Exchange> ex) {
    auto total = std::make_shared<std::size_t>(0);
    auto step = std::make_shared<BodyCallback>();
    *step = [ex, total, step](const BodyEvent& ev) {
        if (ev.status == BodyStatus::Data) {
            *total += ev.data.size();
            ex->readBody(*step);
            return;
        }
        auto keep = std::move(*step);  // breaks the self-reference
        if (ev.status == BodyStatus::End) ex->respond(200, {}, std::to_string(*total));
    };
    ex->readBody(*step);
}

void echoHandler(std::shared_ptr<Exchange> ex) { ex->respond(200, {}, ex->head().target); }

std::string post(std::size_t length) {
    return "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

template <class Pred>
bool waitFor(Pred pred, std::chrono::milliseconds limit = 5000ms) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

}  // namespace

TEST_CASE("a request body that stops arriving is answered 408 and the connection closes") {
    ServerConfig cfg;
    cfg.body_timeout = 300ms;
    TestServer s(cfg, countBody);
    Client c(s.port());
    REQUIRE(c.send(post(100) + std::string(10, 'x')));
    auto r = c.read();
    REQUIRE(r);
    CHECK(r->status == 408);
    CHECK(c.closedByPeer());
    CHECK(waitFor([&] { return s.server->activeExchanges() == 0; }));
}

TEST_CASE("a body trickled byte by byte runs out of its minimum-rate budget: 408") {
    ServerConfig cfg;
    cfg.body_timeout = 400ms;  // each gap (100 ms) is well inside it...
    cfg.body_min_rate = 100;   // ...but 1 byte per 100 ms earns only 10 ms per byte
    TestServer s(cfg, countBody);
    Client c(s.port(), 0, 15000);
    REQUIRE(c.send(post(60)));
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0};
    std::thread trickle([&] {
        for (int i = 0; i < 60 && !stop; ++i) {
            std::this_thread::sleep_for(100ms);
            if (::send(c.fd(), "x", 1, MSG_NOSIGNAL) != 1) break;
            ++sent;
        }
    });
    auto r = c.read();
    stop = true;
    trickle.join();
    REQUIRE(r);
    CHECK(r->status == 408);
    CHECK(sent.load() < 60);  // refused before the body was complete
}

TEST_CASE("a body that arrives promptly is not cut by the body timeout") {
    ServerConfig cfg;
    cfg.body_timeout = 300ms;
    TestServer s(cfg, countBody);
    Client c(s.port());
    const std::size_t n = 200 * 1024;
    auto r = c.request(post(n) + std::string(n, 'y'));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == std::to_string(n));
    // Keep-alive: the timer of that body does not fire on the idle connection.
    std::this_thread::sleep_for(400ms);
    auto again = c.request(get("/x"));
    REQUIRE(again);
    CHECK(again->status == 200);
}

TEST_CASE("per-address cap: the oldest idle keep-alive connection of that address makes room") {
    ServerConfig cfg;
    cfg.max_connections_per_ip = 2;
    TestServer s(cfg, echoHandler);
    Client a(s.port()), b(s.port());
    REQUIRE(a.request(get("/a")));
    std::this_thread::sleep_for(20ms);
    REQUIRE(b.request(get("/b")));
    Client c(s.port());
    auto r = c.request(get("/c"));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(a.closedByPeer());  // the oldest idle one went
    auto rb = b.request(get("/b2"));
    REQUIRE(rb);
    CHECK(rb->status == 200);
    CHECK(s.server->connectionCount() == 2);
}

TEST_CASE("per-address cap: with no idle connection to close, the new one gets 503") {
    ServerConfig cfg;
    cfg.max_connections_per_ip = 2;
    TestServer s(cfg, echoHandler);
    Client a(s.port()), b(s.port());
    REQUIRE(a.send("GET /a HTTP/1.1\r\n"));  // heads in progress: not idle
    REQUIRE(b.send("GET /b HTTP/1.1\r\n"));
    REQUIRE(waitFor([&] { return s.server->connectionCount() == 2; }));
    Client c(s.port());
    auto r = c.request(get("/c"));
    REQUIRE(r);
    CHECK(r->status == 503);
    REQUIRE(a.send("Host: t\r\n\r\n"));
    auto ra = a.read();
    REQUIRE(ra);
    CHECK(ra->status == 200);
}

TEST_CASE("global cap full of idle sockets: a new client is served, the oldest idle one is closed") {
    ServerConfig cfg;
    cfg.max_connections = 3;
    TestServer s(cfg, echoHandler);
    // Idle sockets that never sent a byte, as a flood of bare connects leaves them.
    Client a(s.port());
    std::this_thread::sleep_for(20ms);
    Client b(s.port()), d(s.port());
    REQUIRE(waitFor([&] { return s.server->connectionCount() == 3; }));
    for (int i = 0; i < 3; ++i) {
        Client c(s.port());
        auto r = c.request(get("/new"));
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    CHECK(a.closedByPeer());
}
