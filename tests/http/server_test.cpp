// SPDX-License-Identifier: MIT
// Behaviour of the HTTP front over real sockets: framing, limits, timeouts, streaming.
#include <doctest/doctest.h>

#include "test_client.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

using namespace buntime::http;
using namespace buntime::http::test;
using namespace std::chrono_literals;

namespace {

// Answers "<method> <target>" (or the value of a few probe paths).
void echoHandler(std::shared_ptr<Exchange> ex) {
    const auto& h = ex->head();
    ex->respond(200, {{"content-type", "text/plain"}}, h.method + " " + h.target);
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

std::string tempPath(const std::string& name) {
    return "/tmp/buntime-http-test-" + std::to_string(::getpid()) + "-" + name;
}

}  // namespace

TEST_CASE("keep-alive: two requests on one connection") {
    TestServer s({}, echoHandler);
    Client c(s.port());
    REQUIRE(c.connected());
    auto r1 = c.request(get("/a"));
    REQUIRE(r1);
    CHECK(r1->status == 200);
    CHECK(r1->body == "GET /a");
    CHECK(r1->header("server") == "buntime");
    CHECK(r1->header("connection") == "");
    auto r2 = c.request(get("/b?x=1"));
    REQUIRE(r2);
    CHECK(r2->body == "GET /b?x=1");
    CHECK(s.server->connectionCount() == 1);
}

TEST_CASE("pipelined requests are answered in order") {
    TestServer s({}, echoHandler);
    Client c(s.port());
    REQUIRE(c.send(get("/1") + get("/2") + get("/3")));
    for (const char* want : {"GET /1", "GET /2", "GET /3"}) {
        auto r = c.read();
        REQUIRE(r);
        CHECK(r->body == want);
    }
}

TEST_CASE("HTTP/1.0 closes by default and keeps alive on request") {
    TestServer s({}, echoHandler);
    {
        Client c(s.port());
        auto r = c.request("GET /x HTTP/1.0\r\n\r\n");
        REQUIRE(r);
        CHECK(r->version == "HTTP/1.0");
        CHECK(r->header("connection") == "close");
        CHECK(c.closedByPeer());
    }
    {
        Client c(s.port());
        auto r = c.request("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        REQUIRE(r);
        CHECK(r->header("connection") == "keep-alive");
        auto r2 = c.request("GET /y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        REQUIRE(r2);
        CHECK(r2->body == "GET /y");
    }
}

TEST_CASE("garbage gets 400 and the connection closes") {
    std::atomic<int> calls{0};
    TestServer s({}, [&](std::shared_ptr<Exchange> ex) {
        ++calls;
        ex->respond(200);
    });
    Client c(s.port());
    auto r = c.request("\x01\x02 garbage garbage\r\n\r\n");
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->header("connection") == "close");
    CHECK(c.closedByPeer());
    CHECK(calls == 0);
}

TEST_CASE("headers over the limit get 431 and close") {
    ServerConfig cfg;
    cfg.header_limit = 4096;
    TestServer s(cfg, echoHandler);
    Client c(s.port());
    auto r = c.request(get("/", "X-Big: " + std::string(8000, 'a') + "\r\n"));
    REQUIRE(r);
    CHECK(r->status == 431);
    CHECK(c.closedByPeer());

    Client c2(s.port());  // a long request line alone is also refused
    auto r2 = c2.request("GET /" + std::string(6000, 'p') + " HTTP/1.1\r\n\r\n");
    REQUIRE(r2);
    CHECK(r2->status == 431);
}

TEST_CASE("unsupported transfer-encoding gets 501") {
    TestServer s({}, echoHandler);
    Client c(s.port());
    auto r = c.request("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxxxx");
    REQUIRE(r);
    CHECK(r->status == 501);
    CHECK(c.closedByPeer());
}

TEST_CASE("content-length over the body limit gets 413 before the body is read") {
    std::atomic<int> too_large{0};
    TestServer s({}, [&](std::shared_ptr<Exchange> ex) {
        ex->setBodyLimit(100);
        ex->readBody([&, ex](const BodyEvent& e) {
            if (e.status == BodyStatus::TooLarge) ++too_large;
        });
    });
    Client c(s.port());
    // Headers only: the answer must come although no body byte was sent.
    REQUIRE(c.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n"));
    auto r = c.read();
    REQUIRE(r);
    CHECK(r->status == 413);  // and no "100 Continue" before it
    CHECK(r->header("connection") == "close");
    CHECK(c.closedByPeer());
    CHECK(waitFor([&] { return too_large == 1; }));
}

TEST_CASE("chunked request body is streamed to the handler and limited") {
    std::mutex m;
    std::vector<std::size_t> pieces;
    auto handler = [&](std::shared_ptr<Exchange> ex) {
        ex->setBodyLimit(ex->head().target == "/small" ? 10 : 1 << 20);
        auto body = std::make_shared<std::string>();
        auto step = std::make_shared<std::function<void(const BodyEvent&)>>();
        *step = [ex, body, step, &m, &pieces](const BodyEvent& e) {
            if (e.status == BodyStatus::Data) {
                body->append(reinterpret_cast<const char*>(e.data.data()), e.data.size());
                {
                    std::lock_guard lk(m);
                    pieces.push_back(e.data.size());
                }
                ex->readBody(*step);
            } else if (e.status == BodyStatus::End) {
                ex->respond(200, {}, "got:" + *body);
                *step = nullptr;  // break the cycle
            } else {
                *step = nullptr;
            }
        };
        ex->readBody(*step);
    };
    TestServer s({}, handler);
    {
        Client c(s.port());
        REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
        std::this_thread::sleep_for(50ms);
        REQUIRE(c.send("6\r\n world\r\n0\r\nX-Trailer: ignored\r\n\r\n"));
        auto r = c.read();
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(r->body == "got:hello world");
        std::lock_guard lk(m);
        CHECK(pieces.size() == 2);  // one event per received chunk
    }
    {
        Client c(s.port());
        REQUIRE(c.send(
            "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n"));
        auto r = c.read();
        REQUIRE(r);
        CHECK(r->status == 413);
        CHECK(c.closedByPeer());
    }
}

TEST_CASE("content-length request body, 100-continue") {
    auto handler = [](std::shared_ptr<Exchange> ex) {
        auto body = std::make_shared<std::string>();
        auto step = std::make_shared<std::function<void(const BodyEvent&)>>();
        *step = [ex, body, step](const BodyEvent& e) {
            if (e.status == BodyStatus::Data) {
                body->append(reinterpret_cast<const char*>(e.data.data()), e.data.size());
                ex->readBody(*step);
                return;
            }
            if (e.status == BodyStatus::End) ex->respond(200, {}, std::to_string(body->size()) + ":" + *body);
            *step = nullptr;
        };
        ex->readBody(*step);
    };
    TestServer s({}, handler);
    Client c(s.port());
    REQUIRE(c.send("PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    auto cont = c.read();
    REQUIRE(cont);
    CHECK(cont->status == 100);
    REQUIRE(c.send("abcde"));
    auto r = c.read();
    REQUIRE(r);
    CHECK(r->body == "5:abcde");
    // A large body arrives in several pieces and in full.
    std::string big(300000, 'z');
    auto r2 = c.request("PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 300000\r\n\r\n" + big);
    REQUIRE(r2);
    CHECK(r2->body == "300000:" + big);
}

TEST_CASE("streamed responses: chunked and content-length") {
    TestServer s({}, [](std::shared_ptr<Exchange> ex) {
        bool chunked = ex->head().target == "/chunked";
        ex->startResponse(201, {{"x-test", "1"}, {"Content-Length", "999"}},
                          chunked ? std::nullopt : std::optional<std::uint64_t>(11));
        ex->writeBodyCopy("hello", nullptr);
        ex->writeBodyCopy(" ", nullptr);
        // From another thread: the call is posted to the connection's loop, in order.
        std::thread([ex] {
            ex->writeBodyCopy("world", nullptr);
            ex->endResponse();
        }).detach();
    });
    Client c(s.port());
    auto r = c.request(get("/chunked"));
    REQUIRE(r);
    CHECK(r->status == 201);
    CHECK(r->header("transfer-encoding") == "chunked");
    CHECK(r->header("content-length") == "");
    CHECK(r->header("x-test") == "1");
    CHECK(r->body == "hello world");
    auto r2 = c.request(get("/length"));
    REQUIRE(r2);
    CHECK(r2->header("content-length") == "11");
    CHECK(r2->body == "hello world");
}

TEST_CASE("HTTP/1.0 streamed response without length is close-delimited") {
    TestServer s({}, [](std::shared_ptr<Exchange> ex) {
        ex->startResponse(200, {}, std::nullopt);
        ex->writeBodyCopy("abc", nullptr);
        ex->endResponse();
    });
    Client c(s.port());
    auto r = c.request("GET / HTTP/1.0\r\n\r\n");
    REQUIRE(r);
    CHECK(r->body == "abc");
}

TEST_CASE("HEAD gets headers and no body") {
    TestServer s({}, [](std::shared_ptr<Exchange> ex) { ex->respond(200, {}, "hello"); });
    Client c(s.port());
    auto r = c.request("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n", true);
    REQUIRE(r);
    CHECK(r->header("content-length") == "5");
    auto r2 = c.request(get("/"));  // no stray body bytes before the next response
    REQUIRE(r2);
    CHECK(r2->status == 200);
    CHECK(r2->body == "hello");
}

TEST_CASE("x-request-id is echoed when valid, generated otherwise") {
    std::mutex m;
    std::string seen;
    TestServer s({}, [&](std::shared_ptr<Exchange> ex) {
        {
            std::lock_guard lk(m);
            seen = ex->head().request_id;
        }
        ex->respond(204);
    });
    Client c(s.port());
    auto r = c.request(get("/", "X-Request-Id: abc-123\r\n"));
    REQUIRE(r);
    CHECK(r->status == 204);
    CHECK(r->header("x-request-id") == "abc-123");
    {
        std::lock_guard lk(m);
        CHECK(seen == "abc-123");
    }
    std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    auto r2 = c.request(get("/", "X-Request-Id: " + std::string(201, 'a') + "\r\n"));
    REQUIRE(r2);
    CHECK(std::regex_match(r2->header("x-request-id"), uuid));
    auto r3 = c.request(get("/"));
    REQUIRE(r3);
    CHECK(std::regex_match(r3->header("x-request-id"), uuid));
    CHECK(r3->header("x-request-id") != r2->header("x-request-id"));
}

TEST_CASE("slow headers get 408, idle keep-alive connections are closed") {
    ServerConfig cfg;
    cfg.header_timeout = 200ms;
    cfg.idle_timeout = 300ms;
    TestServer s(cfg, echoHandler);
    {
        Client c(s.port());
        REQUIRE(c.send("GET / HTTP/1.1\r\nHost: t\r\n"));  // never finished
        auto t0 = std::chrono::steady_clock::now();
        auto r = c.read();
        REQUIRE(r);
        CHECK(r->status == 408);
        CHECK(std::chrono::steady_clock::now() - t0 >= 150ms);
        CHECK(c.closedByPeer());
    }
    {
        Client c(s.port());
        auto r = c.request(get("/"));
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(c.closedByPeer());  // within the 5 s receive timeout, after ~300 ms idle
        CHECK(waitFor([&] { return s.server->connectionCount() == 0; }));
    }
}

TEST_CASE("header timeout also applies to the next request on a keep-alive connection") {
    ServerConfig cfg;
    cfg.header_timeout = 200ms;
    cfg.idle_timeout = 4000ms;
    TestServer s(cfg, echoHandler);
    Client c(s.port());
    REQUIRE(c.request(get("/first")));
    std::this_thread::sleep_for(300ms);  // idle, but within idle_timeout
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(c.send("GET /second HTTP/1.1\r\n"));
    auto r = c.read();
    REQUIRE(r);
    CHECK(r->status == 408);
    CHECK(std::chrono::steady_clock::now() - t0 < 2000ms);
}

TEST_CASE("connections over the cap get 503 when none of the open ones is idle") {
    ServerConfig cfg;
    cfg.max_connections = 2;
    TestServer s(cfg, echoHandler);
    Client a(s.port()), b(s.port());
    // Heads in progress: not idle, so no room can be made (idle ones: tests/http/hardening).
    REQUIRE(a.send("GET /a HTTP/1.1\r\n"));
    REQUIRE(b.send("GET /b HTTP/1.1\r\n"));
    REQUIRE(waitFor([&] { return s.server->connectionCount() == 2; }));
    Client c(s.port());
    auto r = c.request(get("/c"));
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(c.closedByPeer());
    a.close();
    CHECK(waitFor([&] { return s.server->connectionCount() == 1; }));
    Client d(s.port());
    auto rd = d.request(get("/d"));
    REQUIRE(rd);
    CHECK(rd->status == 200);
}

TEST_CASE("onClientGone fires when the client leaves before the response") {
    std::mutex m;
    std::condition_variable cv;
    bool gone = false;
    std::shared_ptr<Exchange> kept;
    TestServer s({}, [&](std::shared_ptr<Exchange> ex) {
        ex->onClientGone([&] {
            std::lock_guard lk(m);
            gone = true;
            cv.notify_all();
        });
        std::lock_guard lk(m);
        kept = ex;  // never answered
    });
    {
        Client c(s.port());
        REQUIRE(c.send(get("/slow")));
        REQUIRE(waitFor([&] {
            std::lock_guard lk(m);
            return kept != nullptr;
        }));
    }
    std::unique_lock lk(m);
    CHECK(cv.wait_for(lk, 5s, [&] { return gone; }));
    CHECK(s.server->activeExchanges() == 0);
    // Late calls on the dead exchange are ignored; the write callback reports failure.
    std::atomic<int> result{-1};
    kept->startResponse(200, {}, std::nullopt);
    static const char data[] = "late";
    kept->writeBody(std::as_bytes(std::span(data)), [&](bool ok) { result = ok ? 1 : 0; });
    lk.unlock();
    CHECK(waitFor([&] { return result == 0; }));
    kept.reset();
}

TEST_CASE("onClientGone fires when the client leaves mid-response; abort closes") {
    std::mutex m;
    std::condition_variable cv;
    bool gone = false;
    std::shared_ptr<Exchange> kept;
    TestServer s({}, [&](std::shared_ptr<Exchange> ex) {
        if (ex->head().target == "/abort") {
            ex->startResponse(200, {}, 100);
            ex->writeBodyCopy("partial", nullptr);
            ex->abort();
            return;
        }
        ex->onClientGone([&] {
            std::lock_guard lk(m);
            gone = true;
            cv.notify_all();
        });
        ex->startResponse(200, {}, std::nullopt);
        ex->writeBodyCopy("first piece", nullptr);
        std::lock_guard lk(m);
        kept = ex;
    });
    {
        Client c(s.port());
        REQUIRE(c.send(get("/stream")));
        auto head = c.readUntil("first piece\r\n");
        REQUIRE(head);
        CHECK(head->find("transfer-encoding: chunked") != std::string::npos);
    }
    {
        std::unique_lock lk(m);
        CHECK(cv.wait_for(lk, 5s, [&] { return gone; }));
        kept.reset();
    }
    Client c(s.port());
    REQUIRE(c.send(get("/abort")));
    // The connection closes at once: whatever was still queued may be lost, and the
    // client sees fewer bytes than announced.
    while (c.fill()) {}
    CHECK(c.eof());    // closed by the server (not a receive timeout)
    CHECK(!c.read());  // and never a complete response
}

TEST_CASE("max_requests_per_connection closes after the last one") {
    ServerConfig cfg;
    cfg.max_requests_per_connection = 2;
    TestServer s(cfg, echoHandler);
    Client c(s.port());
    auto r1 = c.request(get("/1"));
    REQUIRE(r1);
    CHECK(r1->header("connection") == "");
    auto r2 = c.request(get("/2"));
    REQUIRE(r2);
    CHECK(r2->header("connection") == "close");
    CHECK(c.closedByPeer());
}

TEST_CASE("writeBody completions follow the client's reading (backpressure)") {
    static std::vector<std::byte> chunk(64 * 1024, std::byte{'x'});
    static constexpr int total = 512;  // 32 MiB: far more than socket buffers hold
    std::atomic<int> done{0};
    TestServer s({}, [&](std::shared_ptr<Exchange> ex) {
        ex->startResponse(200, {}, std::uint64_t(total) * chunk.size());
        auto pump = std::make_shared<std::function<void(bool)>>();
        *pump = [ex, pump, &done](bool ok) {
            if (!ok) {
                *pump = nullptr;
                return;
            }
            int n = ++done;
            if (n > total) {
                ex->endResponse();
                *pump = nullptr;
                return;
            }
            ex->writeBody(chunk, *pump);
        };
        --done;  // the first call below is not a completion
        (*pump)(true);
    });
    Client c(s.port(), 4096);
    REQUIRE(c.send(get("/big")));
    // Not reading: completions stall well before the end.
    std::this_thread::sleep_for(300ms);
    int stalled = done.load();
    std::this_thread::sleep_for(200ms);
    CHECK(done.load() == stalled);
    CHECK(stalled < total);
    auto r = c.read();
    REQUIRE(r);
    CHECK(r->body.size() == std::size_t(total) * chunk.size());
    CHECK(waitFor([&] { return done.load() == total + 1; }));
}

TEST_CASE("handler on another thread; exceptions become 500") {
    boost::asio::io_context worker;
    auto guard = boost::asio::make_work_guard(worker);
    std::thread wt([&] { worker.run(); });
    TestServer s({}, [&](std::shared_ptr<Exchange> ex) {
        if (ex->head().target == "/throw") throw std::runtime_error("boom");
        boost::asio::post(worker, [ex] { ex->respond(200, {{"x-thread", "worker"}}, "from worker"); });
    });
    Client c(s.port());
    for (int i = 0; i < 20; ++i) {
        auto r = c.request(get("/w"));
        REQUIRE(r);
        CHECK(r->body == "from worker");
    }
    auto r = c.request(get("/throw"));
    REQUIRE(r);
    CHECK(r->status == 500);
    guard.reset();
    wt.join();
}

TEST_CASE("unix socket and admin socket") {
    ServerConfig cfg;
    cfg.unix_socket_path = tempPath("plain.sock");
    cfg.admin_socket_path = tempPath("admin.sock");
    {
        TestServer s(cfg, [](std::shared_ptr<Exchange> ex) {
            const auto& h = ex->head();
            ex->respond(200, {}, std::string(h.from_admin_socket ? "admin" : "public") + " " + h.remote);
        });
        struct stat st {};
        REQUIRE(::stat(cfg.admin_socket_path.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        Client u(cfg.unix_socket_path);
        REQUIRE(u.connected());
        auto r = u.request(get("/"));
        REQUIRE(r);
        CHECK(r->body == "public unix");
        Client a(cfg.admin_socket_path);
        REQUIRE(a.connected());
        auto ra = a.request(get("/"));
        REQUIRE(ra);
        CHECK(ra->body == "admin unix");
        Client t(s.port());
        auto rt = t.request(get("/"));
        REQUIRE(rt);
        CHECK(rt->body.rfind("public 127.0.0.1:", 0) == 0);
    }
    struct stat st {};
    CHECK(::stat(cfg.admin_socket_path.c_str(), &st) != 0);  // removed on exit
}

TEST_CASE("start reports a port in use") {
    TestServer a({}, echoHandler);
    ServerConfig cfg;
    cfg.bind_address = "127.0.0.1";
    cfg.port = a.port();
    Server b(cfg, echoHandler);
    auto r = b.start();
    REQUIRE(!r);
    CHECK(r.error().code == ServerErrc::AddressInUse);
    CHECK(r.error().sys_errno == EADDRINUSE);
    CHECK(r.error().message.find(std::to_string(a.port())) != std::string::npos);
    ServerConfig bad;
    bad.bind_address = "not-an-ip";
    Server c(bad, echoHandler);
    auto rc = c.start();
    REQUIRE(!rc);
    CHECK(rc.error().code == ServerErrc::InvalidAddress);
}

TEST_CASE("access log: remote follows X-Forwarded-For only from a trusted proxy") {
    for (const char* trusted : {"127.0.0.0/8", "10.0.0.0/8"}) {
        CAPTURE(trusted);
        ServerConfig cfg;
        cfg.access_log = tempPath("access-xff.log");
        cfg.trusted_proxies = *TrustedProxies::parse(trusted);
        ::unlink(cfg.access_log.c_str());
        {
            TestServer s(cfg, [](std::shared_ptr<Exchange> ex) { ex->respond(200, {}, "ok"); });
            Client c(s.port());
            REQUIRE(c.request(get("/a", "X-Forwarded-For: 198.51.100.1, 203.0.113.9\r\n")));
        }
        std::ifstream in(cfg.access_log);
        std::string line;
        REQUIRE(std::getline(in, line));
        const bool from_proxy = std::string_view(trusted) == "127.0.0.0/8";
        CHECK(line.find(from_proxy ? "\"remote\":\"203.0.113.9\"" : "\"remote\":\"127.0.0.1\"") != std::string::npos);
        ::unlink(cfg.access_log.c_str());
    }
}

TEST_CASE("access log writes one JSON line per request") {
    ServerConfig cfg;
    cfg.access_log = tempPath("access.log");
    ::unlink(cfg.access_log.c_str());
    {
        TestServer s(cfg, [](std::shared_ptr<Exchange> ex) {
            ex->setLogFields("hello", 4242);
            ex->respond(200, {}, "12345");
        });
        Client c(s.port());
        REQUIRE(c.request(get("/hello/x?q=\"1\"", "X-Request-Id: rid-1\r\n")));
        REQUIRE(c.request(get("/hello/y")));
    }
    std::ifstream in(cfg.access_log);
    std::string line1, line2;
    REQUIRE(std::getline(in, line1));
    REQUIRE(std::getline(in, line2));
    CHECK(line1.find("\"requestId\":\"rid-1\"") != std::string::npos);
    CHECK(line1.find("\"remote\":\"127.0.0.1\"") != std::string::npos);  // the peer (no trusted proxy)
    CHECK(line1.find("\"method\":\"GET\"") != std::string::npos);
    CHECK(line1.find("\"path\":\"/hello/x\"") != std::string::npos);
    CHECK(line1.find("\"app\":\"hello\"") != std::string::npos);
    CHECK(line1.find("\"status\":200") != std::string::npos);
    CHECK(line1.find("\"workerPid\":4242") != std::string::npos);
    CHECK(line1.find("\"bytesIn\":0") != std::string::npos);
    CHECK(line1.find("\"durationMs\":") != std::string::npos);
    CHECK(std::regex_search(line1, std::regex("\"time\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\"")));
    CHECK(line2.find("\"path\":\"/hello/y\"") != std::string::npos);
    ::unlink(cfg.access_log.c_str());
}

TEST_CASE("graceful drain: stopAccepting, in-flight request completes with close") {
    std::mutex m;
    std::shared_ptr<Exchange> pending;
    TestServer s({}, [&](std::shared_ptr<Exchange> ex) {
        std::lock_guard lk(m);
        pending = ex;
    });
    Client idle(s.port());
    REQUIRE(idle.connected());
    Client busy(s.port());
    REQUIRE(busy.send(get("/busy")));
    REQUIRE(waitFor([&] {
        std::lock_guard lk(m);
        return pending != nullptr;
    }));
    s.server->stopAccepting();
    CHECK(idle.closedByPeer());
    CHECK(!s.server->waitIdle(std::chrono::steady_clock::now() + 100ms));
    {
        std::lock_guard lk(m);
        pending->respond(200, {}, "done");
        pending.reset();
    }
    auto r = busy.read();
    REQUIRE(r);
    CHECK(r->body == "done");
    CHECK(r->header("connection") == "close");
    CHECK(s.server->waitIdle(std::chrono::steady_clock::now() + 5s));
    Client late(s.port());
    CHECK(!late.connected());
}

TEST_CASE("several event loops: connections are spread round-robin and each stays on its loop") {
    // The handler runs on the connection's loop thread: record which thread served each path.
    std::mutex m;
    std::map<std::string, std::set<std::thread::id>> threads_by_path;
    ServerConfig cfg;
    cfg.threads = 3;
    TestServer s(cfg, [&](std::shared_ptr<Exchange> ex) {
        {
            std::lock_guard lk(m);
            threads_by_path[ex->head().target].insert(std::this_thread::get_id());
        }
        echoHandler(std::move(ex));
    });
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 9; ++i) clients.push_back(std::make_unique<Client>(s.port()));
    for (int round = 0; round < 3; ++round)
        for (std::size_t i = 0; i < clients.size(); ++i) {
            std::string path = std::string("/p") + std::to_string(i);
            auto r = clients[i]->request(get(path));
            REQUIRE(r);
            CHECK(r->body == std::string("GET ") + path);
        }
    CHECK(s.server->connectionCount() == 9);

    std::lock_guard lk(m);
    REQUIRE(threads_by_path.size() == 9);
    std::set<std::thread::id> loops;
    for (const auto& [path, ids] : threads_by_path) {
        CAPTURE(path);
        CHECK(ids.size() == 1);  // one connection, one loop, for all three requests
        loops.insert(ids.begin(), ids.end());
    }
    CHECK(loops.size() == 3);  // 9 connections over 3 loops: every loop served some
    CHECK(loops.count(std::this_thread::get_id()) == 0);
}
