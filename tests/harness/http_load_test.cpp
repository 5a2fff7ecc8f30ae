// SPDX-License-Identifier: MIT
// The load client's parser and driver against the scriptable test server.
#include <doctest/doctest.h>

#include "buntime/harness/http_load.h"
#include "test_server.h"

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <thread>

using namespace buntime::harness;
using buntime::harness::test::TestRequest;
using buntime::harness::test::TestResponse;
using buntime::harness::test::TestServer;

namespace {

// Feeds `wire` one byte at a time, as the worst-case fragmentation.
ResponseParser::Status feedBytewise(ResponseParser& p, const std::string& wire, std::size_t& leftover) {
    std::string buf;
    for (char ch : wire) {
        buf.push_back(ch);
        std::size_t used = 0;
        const auto st = p.feed(buf.data(), buf.size(), used);
        buf.erase(0, used);
        if (st != ResponseParser::Status::NeedMore) {
            leftover = buf.size();
            return st;
        }
    }
    leftover = buf.size();
    return ResponseParser::Status::NeedMore;
}

Scenario scenario(const std::string& target, const std::string& method = "GET", std::string body = {}) {
    return Scenario{"test", method, target, body.empty() ? "" : "text/plain", std::move(body), 0};
}

LoadParams params(unsigned concurrency, std::uint64_t duration_ms = 300, std::uint64_t timeout_ms = 2000) {
    LoadParams p;
    p.concurrency = concurrency;
    p.warmup_ms = 0;
    p.duration_ms = duration_ms;
    p.timeout_ms = timeout_ms;
    return p;
}

TestServer routes() {
    return TestServer([](const TestRequest& req, std::function<void(TestResponse)> reply) {
        TestResponse r;
        if (req.target == "/ok")
            r.body = "pong";
        else if (req.target == "/err")
            r = {500, "boom"};
        else if (req.target == "/missing")
            r = {404, "no"};
        else if (req.target == "/hang")
            r.hang = true;
        else if (req.target == "/chunked") {
            r.body = std::string(100, 'c');
            r.chunked = true;
        } else if (req.target == "/close") {
            r.body = "bye";
            r.close = true;
        } else if (req.target == "/echo") {
            const bool ok = req.method == "POST" && req.body == std::string(1024, 'x') &&
                            req.headers.count("content-type") && req.headers.at("content-type") == "text/plain";
            r = {ok ? 200 : 400, std::to_string(req.body.size())};
        } else
            r = {404, "?"};
        reply(std::move(r));
    });
}

}  // namespace

TEST_CASE("parser: Content-Length body split across byte-sized reads") {
    ResponseParser p;
    std::size_t left = 0;
    CHECK(feedBytewise(p, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello", left) ==
          ResponseParser::Status::Done);
    CHECK(p.status() == 200);
    CHECK(p.bodyBytes() == 5);
    CHECK(p.keepAlive());
    CHECK(left == 0);
}

TEST_CASE("parser: chunked body with extensions and trailers") {
    ResponseParser p;
    std::size_t left = 0;
    const std::string wire = TestServer::serialize(TestResponse{201, std::string(30, 'z'), "text/plain", true});
    CHECK(feedBytewise(p, wire, left) == ResponseParser::Status::Done);
    CHECK(p.status() == 201);
    CHECK(p.bodyBytes() == 30);
    // All at once, too.
    p.reset();
    std::size_t used = 0;
    CHECK(p.feed(wire.data(), wire.size(), used) == ResponseParser::Status::Done);
    CHECK(used == wire.size());
}

TEST_CASE("parser: close-delimited, 204, interim 100 and Connection: close") {
    ResponseParser p;
    std::size_t used = 0;
    const std::string legacy = "HTTP/1.0 200 OK\r\n\r\nabc";
    CHECK(p.feed(legacy.data(), legacy.size(), used) == ResponseParser::Status::NeedMore);
    CHECK(p.finishOnEof() == ResponseParser::Status::Done);
    CHECK(p.bodyBytes() == 3);
    CHECK_FALSE(p.keepAlive());

    p.reset();
    const std::string noContent = "HTTP/1.1 204 No Content\r\n\r\n";
    CHECK(p.feed(noContent.data(), noContent.size(), used) == ResponseParser::Status::Done);

    p.reset();
    const std::string interim =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    CHECK(p.feed(interim.data(), interim.size(), used) == ResponseParser::Status::Done);
    CHECK(p.status() == 200);
    CHECK_FALSE(p.keepAlive());

    p.reset();
    const std::string truncated = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    CHECK(p.feed(truncated.data(), truncated.size(), used) == ResponseParser::Status::NeedMore);
    CHECK(p.finishOnEof() == ResponseParser::Status::Error);
}

TEST_CASE("parser: malformed replies are errors") {
    for (const std::string bad :
         {"SMTP 220 hello\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
        ResponseParser p;
        std::size_t used = 0;
        CAPTURE(bad);
        CHECK(p.feed(bad.data(), bad.size(), used) == ResponseParser::Status::Error);
    }
}

TEST_CASE("request bytes: GET without body, POST with content-type and length") {
    const std::string get = buildRequestBytes(scenario("/noop/ping"), "127.0.0.1:9");
    CHECK(get.rfind("GET /noop/ping HTTP/1.1\r\nHost: 127.0.0.1:9\r\n", 0) == 0);
    CHECK(get.find("Content-Length") == std::string::npos);
    CHECK(get.substr(get.size() - 4) == "\r\n\r\n");
    const std::string post = buildRequestBytes(*findScenario("echo-1kb"), "h:1");
    CHECK(post.find("Content-Type: text/plain\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'x')) !=
          std::string::npos);
}

TEST_CASE("keep-alive: one connection per loop, every reply counted as 200") {
    TestServer server = routes();
    const auto r = runHttpLoad({"127.0.0.1", server.port()}, scenario("/ok"), params(4));
    CHECK(r.requests > 0);
    CHECK(r.errors == 0);
    CHECK(r.status_counts.size() == 1);
    CHECK(r.status_counts.at(200) == r.requests);
    CHECK(r.latency.count() == r.requests);
    CHECK(r.connectionsOpened == 4);
    CHECK(server.connectionsAccepted() == 4);
    CHECK(r.concurrency == 4);
    CHECK(r.duration_sec > 0.2);
}

TEST_CASE("status >= 400 is an error and counted by status") {
    TestServer server = routes();
    const auto r = runHttpLoad({"127.0.0.1", server.port()}, scenario("/err"), params(2));
    CHECK(r.requests > 0);
    CHECK(r.errors == r.requests);
    CHECK(r.http_errors == r.requests);
    CHECK(r.status_counts.at(500) == r.requests);
    CHECK(r.connectionsOpened == 2);  // error replies keep the connection
    const auto nf = runHttpLoad({"127.0.0.1", server.port()}, scenario("/missing"), params(1, 100));
    CHECK(nf.errors == nf.requests);
    CHECK(nf.status_counts.at(404) == nf.requests);
}

TEST_CASE("a request without reply within the client timeout is a timeout error") {
    TestServer server = routes();
    const auto r = runHttpLoad({"127.0.0.1", server.port()}, scenario("/hang"), params(2, 400, 60));
    CHECK(r.timeouts >= 2);
    CHECK(r.errors == r.timeouts);
    CHECK(r.requests == r.timeouts);
    CHECK(r.status_counts.empty());
    CHECK(r.latency.count() == 0);
    CHECK(r.connectionsOpened > 2);  // a timed-out connection is replaced
}

TEST_CASE("chunked replies are read completely and the connection is reused") {
    TestServer server = routes();
    const auto r = runHttpLoad({"127.0.0.1", server.port()}, scenario("/chunked"), params(3));
    CHECK(r.requests > 0);
    CHECK(r.errors == 0);
    CHECK(r.status_counts.at(200) == r.requests);
    CHECK(r.connectionsOpened == 3);
}

TEST_CASE("Connection: close replies reconnect without errors") {
    TestServer server = routes();
    const auto r = runHttpLoad({"127.0.0.1", server.port()}, scenario("/close"), params(2));
    CHECK(r.requests > 2);
    CHECK(r.errors == 0);
    CHECK(r.connectionsOpened > 2);
    // The last connections may still sit in the listen backlog when the load stops: let the
    // server's accept loop catch up before comparing.
    for (int i = 0; i < 200 && server.connectionsAccepted() < r.connectionsOpened; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(server.connectionsAccepted() == r.connectionsOpened);
}

TEST_CASE("POST body and content-type reach the server intact") {
    TestServer server = routes();
    Scenario s = *findScenario("echo-1kb");
    s.target = "/echo";
    const auto r = runHttpLoad({"127.0.0.1", server.port()}, s, params(3));
    CHECK(r.requests > 0);
    CHECK(r.errors == 0);
    CHECK(r.status_counts.at(200) == r.requests);
}

TEST_CASE("refused connections are connection errors") {
    std::uint16_t port = 0;
    {
        boost::asio::io_context io;
        boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }  // closed: nothing listens there now
    const auto r = runHttpLoad({"127.0.0.1", port}, scenario("/ok"), params(2, 200));
    CHECK(r.connection_errors > 0);
    CHECK(r.errors == r.connection_errors);
    CHECK(r.status_counts.empty());
}

TEST_CASE("warm-up requests are not measured; phase hooks run once each") {
    TestServer server = routes();
    LoadParams p = params(2, 200);
    p.warmup_ms = 150;
    int starts = 0, ends = 0;
    p.onMeasuredStart = [&] { ++starts; };
    p.onMeasuredEnd = [&] { ++ends; };
    const auto r = runHttpLoad({"127.0.0.1", server.port()}, scenario("/ok"), p);
    CHECK(starts == 1);
    CHECK(ends == 1);
    CHECK(r.requests > 0);
    CHECK(server.requestsServed() > r.requests);
    CHECK(r.duration_sec == doctest::Approx(0.2).epsilon(0.5));
}
