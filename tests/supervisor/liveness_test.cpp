// SPDX-License-Identifier: MIT
// Integration tests of the supervisor against hostile apps and clients: a stopped worker,
// a hung constructor, a crash loop, slow request bodies, and a flood of idle sockets.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <cerrno>
#include <future>
#include <memory>

#include "supervisor_process.h"

using namespace buntime::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

void makeApp(const fs::path& dir, const std::string& manifest) { installApp(dir, FIXTURE_APP_SO, manifest); }

std::string errorOf(const httplib::Result& r) {
    if (!r) return "(no response)";
    auto j = json::parse(r->body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : r->body;
}

// A TCP connection to the supervisor that sends `bytes` and stays open until destroyed.
class OpenSocket {
public:
    OpenSocket(std::uint16_t port, const std::string& bytes)
        : fd_(connectLoopback(port, std::chrono::seconds(5))), connected_(fd_ >= 0) {
        if (connected_ && !bytes.empty()) ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    ~OpenSocket() {
        if (fd_ >= 0) ::close(fd_);
    }
    OpenSocket(const OpenSocket&) = delete;
    OpenSocket& operator=(const OpenSocket&) = delete;
    bool connected() const { return connected_; }
    // True if the server closed it (EOF or reset) within `ms`.
    bool closedByPeer(int ms) {
        timeval tv{ms / 1000, (ms % 1000) * 1000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char c;
        auto n = ::recv(fd_, &c, 1, 0);
        return n == 0 || (n < 0 && errno == ECONNRESET);
    }

private:
    int fd_ = -1;
    bool connected_ = false;
};

}  // namespace

TEST_CASE("a SIGSTOPped worker is noticed by the liveness ping, killed, and replaced; its request gets 502") {
    TempDir apps;
    makeApp(apps.root() / "frozen", "ttl: 1m\ntimeout: 20s\nthreads: 4\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_WORKER_PING_MS"] = "300";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    auto pid_text = s.client().Get("/frozen/pid");
    REQUIRE(pid_text);
    const pid_t pid = std::stoi(pid_text->body);

    // A long request is answered while Pongs keep the busy worker alive.
    auto alive = s.client().Get("/frozen/sleep?ms=1500");
    REQUIRE(alive);
    CHECK(alive->status == 200);

    auto stuck = std::async(std::launch::async, [&] { return s.client().Get("/frozen/sleep?ms=3000"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    auto r = stuck.get();
    REQUIRE(r);
    CHECK(r->status == 502);  // without the ping: 504 after the 20 s timeout
    CHECK(errorOf(r) == "WORKER_UNRESPONSIVE");
    ::kill(pid, SIGCONT);  // harmless if it is gone, as it should be
    CHECK(::kill(pid, 0) != 0);

    auto next = s.client().Get("/frozen/pid");
    REQUIRE(next);
    CHECK(next->status == 200);
    CHECK(std::stoi(next->body) != pid);
    CHECK(s.log().find("of a ping") != std::string::npos);
}

TEST_CASE("a hung constructor fails the start after startTimeout (503 with the reason), then backs off") {
    TempDir apps;
    makeApp(apps.root() / "hung", "ttl: 1m\ntimeout: 30s\nstartTimeout: 1s\nenv:\n  FIXTURE_HANG_INIT: \"1\"\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto r = s.client().Get("/hung/");
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(errorOf(r) == "WORKER_START_TIMEOUT");
    CHECK(r->body.find("startTimeout of 1000 ms") != std::string::npos);
    auto again = s.client().Get("/hung/");
    REQUIRE(again);
    CHECK(again->status == 503);
    CHECK(errorOf(again) == "WORKER_START_BACKOFF");
    CHECK(!again->get_header_value("retry-after").empty());
    CHECK(again->body.find("startTimeout") != std::string::npos);  // the last failure's reason
    CHECK(s.log().find("did not start within its startTimeout") != std::string::npos);
    CHECK(s.client().Get("/_/api/health/live")->status == 200);
}

TEST_CASE("crash loop: ten requests to an ephemeral app that cannot start spawn at most the admitted ones") {
    TempDir apps;
    makeApp(apps.root() / "doomed", "ttl: 0\ntimeout: 10s\nenv:\n  FIXTURE_FAIL_INIT: \"1\"\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_EPHEMERAL_CONCURRENCY"] = "2";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    std::vector<std::future<httplib::Result>> burst;
    for (int i = 0; i < 10; ++i)
        burst.push_back(std::async(std::launch::async, [&] { return s.client().Get("/doomed/"); }));
    int init_failed = 0, backoff = 0;
    for (auto& f : burst) {
        auto r = f.get();
        REQUIRE(r);
        CHECK(r->status == 503);
        const auto code = errorOf(r);
        if (code == "WORKER_INIT_FAILED") ++init_failed;
        if (code == "WORKER_START_BACKOFF") {
            ++backoff;
            CHECK(r->body.find("fixture init failure") != std::string::npos);
            CHECK(!r->get_header_value("retry-after").empty());
        }
    }
    CHECK(init_failed + backoff == 10);
    CHECK(backoff >= 1);
    auto m = json::parse(s.client().Get("/_/api/metrics")->body);
    CHECK(m["totalWorkersCreated"].get<int>() < 10);  // before the backoff: one process per request
}

TEST_CASE("slow bodies hold no worker slot, and a stalled body gets 408") {
    TempDir apps;
    makeApp(apps.root() / "upload", "ttl: 1m\ntimeout: 30s\nconcurrency: 2\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_BODY_TIMEOUT_MS"] = "1500";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    const std::string head = "POST /upload/length HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
    std::vector<std::unique_ptr<OpenSocket>> slow;
    for (int i = 0; i < 10; ++i) {
        slow.push_back(std::make_unique<OpenSocket>(s.port(), head + "a few bytes"));
        REQUIRE(slow.back()->connected());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto c = s.client();
    c.set_read_timeout(5);  // before: parked behind the stalled uploads until their timeout
    auto r = c.Post("/upload/length", std::string(1000, 'z'), "application/octet-stream");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "1000");

    const auto raw = rawExchange(s.port(), head + "only part", std::chrono::seconds(10));
    CHECK(statusOf(raw) == 408);
}

TEST_CASE("a flood of idle sockets does not lock new clients out") {
    TempDir apps;
    makeApp(apps.root() / "hello", "ttl: 1m\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_MAX_CONNECTIONS"] = "20";
    env["RUNTIME_MAX_CONNECTIONS_PER_IP"] = "0";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    std::vector<std::unique_ptr<OpenSocket>> idle;
    for (int i = 0; i < 40; ++i) idle.push_back(std::make_unique<OpenSocket>(s.port(), ""));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (int i = 0; i < 5; ++i) {
        auto r = s.client().Get("/hello/");
        REQUIRE(r);
        CHECK(r->status == 200);  // before: 503 until the idle ones time out
    }
    CHECK(idle.front()->closedByPeer(2000));  // the oldest idle ones made room
}

TEST_CASE("per-address cap: one client's idle sockets make room for its own new ones") {
    TempDir apps;
    makeApp(apps.root() / "hello", "ttl: 1m\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_MAX_CONNECTIONS_PER_IP"] = "10";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    std::vector<std::unique_ptr<OpenSocket>> idle;
    for (int i = 0; i < 30; ++i) idle.push_back(std::make_unique<OpenSocket>(s.port(), ""));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (int i = 0; i < 20; ++i) CHECK(idle[static_cast<std::size_t>(i)]->closedByPeer(2000));
    CHECK_FALSE(idle.back()->closedByPeer(200));  // the newest ones stay
    auto r = s.client().Get("/hello/");
    REQUIRE(r);
    CHECK(r->status == 200);
    auto h = json::parse(s.client().Get("/_/api/health")->body);
    CHECK(h["status"] == "healthy");
}
