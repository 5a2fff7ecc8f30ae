// SPDX-License-Identifier: MIT
// A handler that throws on an event loop (posted work, not the request handler itself) is
// logged and the loop keeps serving: no loop thread ends, so no other loop waits on it.
#include <doctest/doctest.h>

#include <boost/asio/post.hpp>

#include <stdexcept>

#include "test_client.h"

using namespace buntime::http;
using namespace buntime::http::test;

TEST_CASE("an exception thrown by posted work on a loop does not stop that loop") {
    ServerConfig cfg;
    cfg.threads = 2;  // RUNTIME_EVENT_LOOPS=2: connections land on both loops
    TestServer s(cfg, [](std::shared_ptr<Exchange> ex) {
        if (ex->head().target == "/throw-later")
            boost::asio::post(ex->executor(), [] { throw std::runtime_error("boom in posted work"); });
        ex->respond(200, {}, "ok");
    });
    for (int round = 0; round < 4; ++round) {
        Client c(s.port());
        auto r = c.request(get("/throw-later"));
        REQUIRE(r);
        CHECK(r->status == 200);
        // Same connection, so the same loop as the throw: it still answers.
        for (int i = 0; i < 3; ++i) {
            auto again = c.request(get("/after"));
            REQUIRE(again);
            CHECK(again->body == "ok");
        }
    }
}
