// SPDX-License-Identifier: MIT
// A real buntime-worker answers the supervisor's liveness Ping with a Pong echoing its
// token, from its reading thread, while every handler thread is busy.
#include <doctest/doctest.h>

#include "worker_client.h"

using namespace buntime;
using namespace buntime::test;

TEST_CASE("Ping is answered with a Pong carrying the same token, even with every handler busy") {
    TempDir dir;
    dir.copy(FIXTURE_BLOCKING, "app.so");
    WorkerOptions o;
    o.app_dir = dir.path();
    o.args = {"--threads", "1", "--concurrency", "4"};
    WorkerClient w(std::move(o));
    REQUIRE(w.startup().ready);

    w.ping(0x0102030405060708ull);
    CHECK(w.waitPong(0x0102030405060708ull, 5s));

    // The only handler thread sleeps 2 s: the Pong must not wait for it.
    const auto busy = w.send("GET", "/block", {}, {}, "ms=2000");
    const auto queued = w.send("GET", "/block", {}, {}, "ms=10");
    std::this_thread::sleep_for(100ms);
    w.ping(42);
    CHECK(w.waitPong(42, 1s));
    CHECK_FALSE(w.hasReply(busy));  // still in its handler
    CHECK(w.wait(busy).body == "blocked");
    CHECK(w.wait(queued).body == "blocked");

    // A Ping whose head is not 8 bytes is dropped, and the worker carries on.
    const std::vector<std::byte> short_head(7, std::byte{1});
    const auto before = w.pongCount();
    w.pingRaw(short_head);
    w.ping(7);
    CHECK(w.waitPong(7, 5s));
    CHECK(w.pongCount() == before + 1);
}
