// SPDX-License-Identifier: MIT
// Hardening, through the real binary: bytes that are not UTF-8 in app errors, admin paths,
// manifests and the access log; RUNTIME_EVENT_LOOPS=2 never wedges; manifest limits; the
// admin socket of a live supervisor is never taken over; Host and absolute-form targets.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/un.h>

#include "supervisor_process.h"

using namespace buntime::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

void makeApp(const fs::path& dir, const std::string& manifest, const char* so = FIXTURE_APP_SO) {
    installApp(dir, so, manifest);
}

// The body of a raw HTTP response (after the blank line).
std::string bodyOf(const std::string& raw) {
    auto p = raw.find("\r\n\r\n");
    return p == std::string::npos ? std::string() : raw.substr(p + 4);
}

// Parses as strict JSON (nlohmann refuses invalid UTF-8): the property under test.
bool isJson(const std::string& text) { return json::accept(text); }

std::string unixExchange(const std::string& path, const std::string& bytes) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return {};
    }
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[8192];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

bool healthy(SupervisorProcess& s) {
    auto r = s.client().Get("/_/api/health");
    return r && r->status == 200;
}

}  // namespace

TEST_CASE("app errors holding 0xff answer 500/503 with valid JSON; the supervisor keeps serving") {
    for (const char* loops : {"1", "2"}) {
        CAPTURE(loops);
        TempDir apps;
        makeApp(apps.root() / "hostile", "ttl: 1m\n", HOSTILE_APP_SO);
        makeApp(apps.root() / "latin", "ttl: 1m\nenv:\n  HOSTILE_LATIN1_INIT: \"1\"\n", HOSTILE_APP_SO);
        makeApp(apps.root() / "eph", "ttl: 0\n", HOSTILE_APP_SO);
        auto env = baseEnv(apps.root());
        env["RUNTIME_EVENT_LOOPS"] = loops;
        SupervisorProcess s(env);
        REQUIRE(s.waitReady());

        for (int i = 0; i < 3; ++i) {
            auto raw =
                rawExchange(s.port(), "GET /hostile/throw?user=%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            CHECK(statusOf(raw) == 500);
            CHECK(isJson(bodyOf(raw)));
            CHECK(json::parse(bodyOf(raw))["error"] == "APP_ERROR");
        }
        auto raw = rawExchange(s.port(), "GET /eph/throw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        CHECK(statusOf(raw) == 500);
        CHECK(isJson(bodyOf(raw)));
        // An app whose constructor throws a Latin-1 message.
        raw = rawExchange(s.port(), "GET /latin/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        CHECK(statusOf(raw) == 503);
        CHECK(isJson(bodyOf(raw)));

        auto ok = s.client().Get("/hostile/");
        REQUIRE(ok);
        CHECK(ok->body == "hostile ok");
        CHECK(healthy(s));
        auto stopped = s.signalAndWait(SIGTERM);
        REQUIRE(stopped);
        CHECK(WIFEXITED(*stopped));
        CHECK(WEXITSTATUS(*stopped) == 0);
    }
}

TEST_CASE("RUNTIME_EVENT_LOOPS=2: a raw 0xff admin path and a Latin-1 manifest never wedge it") {
    TempDir apps;
    makeApp(apps.root() / "good", "ttl: 1m\n");
    makeApp(apps.root() / "latin1", "ttl: 1m\nname: caf\xe9\ntimeout: \"\xe9t\xe9\"\n");
    makeApp(apps.root() / "latin1ok", "ttl: 1m\nenv:\n  GREETING: caf\xe9\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_EVENT_LOOPS"] = "2";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());

    for (int i = 0; i < 4; ++i) {  // several connections: both loops get some
        auto raw = rawExchange(s.port(), "GET /_/api/\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        CHECK(statusOf(raw) == 404);
        CHECK(isJson(bodyOf(raw)));
        raw = rawExchange(s.port(), "GET /latin1/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        CHECK(statusOf(raw) == 500);
        CHECK(isJson(bodyOf(raw)));
        raw = rawExchange(s.port(), "GET /\xff\xfe/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        CHECK(statusOf(raw) >= 400);
        CHECK(isJson(bodyOf(raw)));
    }
    auto apps_json = s.client().Get("/_/api/apps");
    REQUIRE(apps_json);
    CHECK(apps_json->status == 200);
    CHECK(isJson(apps_json->body));
    CHECK(s.client().Get("/latin1ok/"));
    CHECK(s.client().Get("/good/")->body == "fixture ok");
    CHECK(healthy(s));
    auto stopped = s.signalAndWait(SIGTERM);
    REQUIRE(stopped);
    CHECK(WIFEXITED(*stopped));
    CHECK(WEXITSTATUS(*stopped) == 0);
}

TEST_CASE("manifest limits: over 1 MiB and alias bombs answer 500 fast; other apps keep working") {
    TempDir apps;
    makeApp(apps.root() / "good", "ttl: 1m\n");
    makeApp(apps.root() / "huge", "ttl: 1m\nenv:\n  BIG: \"" + std::string(3 << 20, 'x') + "\"\n");
    std::string bomb = "l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n";
    for (int i = 1; i <= 9; ++i) {
        const std::string name = std::to_string(i), prev = std::to_string(i - 1);
        bomb.append("l").append(name).append(": &l").append(name).append(" [");
        for (int k = 0; k < 10; ++k) bomb.append(k ? ", *l" : "*l").append(prev);
        bomb.append("]\n");
    }
    makeApp(apps.root() / "bomb", "ttl: 1m\n" + bomb);
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());

    for (const char* app : {"/huge/", "/bomb/"}) {
        CAPTURE(app);
        auto r = s.client().Get(app);
        REQUIRE(r);
        CHECK(r->status == 500);
        CHECK(json::parse(r->body)["error"] == "APP_CONFIG_ERROR");
    }
    auto log = s.log();
    CHECK(log.find((apps.root() / "huge" / "manifest.yaml").string() + ": manifest is") != std::string::npos);
    CHECK(log.find("1048576") != std::string::npos);
    CHECK(log.find("aliases expanded") != std::string::npos);
    // The admin listing reports both without expanding anything.
    auto listed = s.client().Get("/_/api/apps");
    REQUIRE(listed);
    CHECK(listed->status == 200);
    CHECK(listed->body.size() < 64 * 1024);
    CHECK(s.client().Get("/good/")->body == "fixture ok");
}

TEST_CASE("the access log stays valid JSON for paths that are not UTF-8") {
    TempDir apps;
    makeApp(apps.root() / "good", "ttl: 1m\n");
    auto access = apps.root() / "access.log";
    auto env = baseEnv(apps.root());
    env["RUNTIME_ACCESS_LOG"] = access.string();
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    rawExchange(s.port(), "GET /good/\xff\xc3(q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    rawExchange(s.port(), "GET /caf\xc3\xa9/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    REQUIRE(s.signalAndWait(SIGTERM));
    std::istringstream lines(readFile(access));
    int n = 0;
    bool saw_escape = false, saw_utf8 = false;
    for (std::string line; std::getline(lines, line);) {
        ++n;
        REQUIRE_MESSAGE(isJson(line), line);
        auto path = json::parse(line)["path"].get<std::string>();
        if (path.find("\xc3\xbf") != std::string::npos) saw_escape = true;   // 0xff written as \u00ff
        if (path.find("caf\xc3\xa9") != std::string::npos) saw_utf8 = true;  // valid UTF-8 kept as is
    }
    CHECK(n >= 2);
    CHECK(saw_escape);
    CHECK(saw_utf8);
}

TEST_CASE("a second supervisor never takes over a live admin socket; a stale one is replaced") {
    TempDir apps, sock_dir;
    auto sock = (sock_dir.root() / "admin.sock").string();
    auto env = baseEnv(apps.root());
    env["RUNTIME_ADMIN_SOCKET"] = sock;
    SupervisorProcess first(env);
    REQUIRE(first.waitReady());
    const std::string health = "GET /_/api/health HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n";
    REQUIRE(statusOf(unixExchange(sock, health)) == 200);

    SupervisorProcess second(env);  // another port, same admin socket
    auto status = second.waitExit(std::chrono::seconds(10));
    REQUIRE(status);
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 1);
    CHECK(second.log().find(sock + " is in use") != std::string::npos);
    // The first one still owns and answers on it.
    auto raw = unixExchange(sock, health);
    CHECK(statusOf(raw) == 200);
    CHECK(json::parse(bodyOf(raw))["pid"] == first.pid());

    // SIGKILL leaves the socket file behind: the next supervisor replaces it.
    ::kill(first.pid(), SIGKILL);
    first.waitExit(std::chrono::seconds(5));
    REQUIRE(fs::exists(sock));
    SupervisorProcess third(env);
    REQUIRE(third.waitReady());
    raw = unixExchange(sock, health);
    CHECK(statusOf(raw) == 200);
    CHECK(json::parse(bodyOf(raw))["pid"] == third.pid());
}

TEST_CASE("HTTP/1.1 without Host gets 400 and a close; absolute-form targets are served") {
    TempDir apps;
    makeApp(apps.root() / "fx", "ttl: 1m\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());

    // The server closes after the 400: a pipelined second request gets no answer.
    auto raw = rawExchange(s.port(), "GET /fx/ HTTP/1.1\r\n\r\nGET /fx/ HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(statusOf(raw) == 400);
    CHECK(raw.find("HTTP/1.1", 5) == std::string::npos);
    CHECK(statusOf(rawExchange(s.port(), "GET /fx/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")) == 400);
    CHECK(statusOf(rawExchange(s.port(), "GET /fx/ HTTP/1.0\r\n\r\n")) == 200);  // Host is optional in 1.0

    raw = rawExchange(s.port(), "GET http://example.test:8080/fx/headers?a=1 HTTP/1.1\r\nConnection: close\r\n\r\n");
    CHECK(statusOf(raw) == 200);
    CHECK(bodyOf(raw).find("path=/headers\n") != std::string::npos);
    CHECK(bodyOf(raw).find("base=/fx\n") != std::string::npos);
    // The authority wins over a Host field; scheme case does not matter.
    raw = rawExchange(s.port(), "GET HTTP://other.test/fx/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(statusOf(raw) == 200);
    CHECK(bodyOf(raw) == "fixture ok");
    CHECK(statusOf(rawExchange(s.port(), "GET http:///fx/ HTTP/1.1\r\n\r\n")) == 400);                    // no host
    CHECK(statusOf(rawExchange(s.port(), "GET http://u:p@h/fx/ HTTP/1.1\r\n\r\n")) == 400);               // userinfo
    CHECK(statusOf(rawExchange(s.port(), "GET http://h HTTP/1.1\r\nConnection: close\r\n\r\n")) == 404);  // "/"
}
