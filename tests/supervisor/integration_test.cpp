// SPDX-License-Identifier: MIT
// Integration tests: the real `buntime` binary on a random port, real workers, real HTTP.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <future>
#include <set>

#include <sys/un.h>

#include "supervisor_process.h"

using namespace buntime::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// An app directory with the fixture .so and the given manifest.
void makeApp(const fs::path& dir, const std::string& manifest) { installApp(dir, FIXTURE_APP_SO, manifest); }

json getJson(SupervisorProcess& s, const std::string& path) {
    auto r = s.client().Get(path);
    REQUIRE(r);
    return json::parse(r->body);
}

std::string get(SupervisorProcess& s, const std::string& path, int expect_status = 200) {
    auto r = s.client().Get(path);
    REQUIRE(r);
    CHECK_MESSAGE(r->status == expect_status, path << " -> " << r->status << " " << r->body);
    return r->body;
}

bool processAlive(pid_t pid) { return ::kill(pid, 0) == 0; }

std::set<std::string> shmEntries() {
    std::set<std::string> out;
    std::error_code ec;
    for (auto& e : fs::directory_iterator("/dev/shm", ec)) out.insert(e.path().filename().string());
    return out;
}

}  // namespace

TEST_CASE("sample apps answer through workers, with request ids and base paths") {
    SupervisorProcess s(baseEnv(EXAMPLES_DIR));
    REQUIRE(s.waitReady());
    auto c = s.client();
    auto r = c.Get("/hello/");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "Hello from Buntime");
    CHECK(r->get_header_value("x-request-id").size() == 36);  // a generated UUID

    r = c.Get("/hello/", {{"x-request-id", "my-trace-42"}});
    REQUIRE(r);
    CHECK(r->get_header_value("x-request-id") == "my-trace-42");

    r = c.Post("/echo/anything", std::string(1000, 'z'), "text/plain");
    REQUIRE(r);
    CHECK(json::parse(r->body) == json{{"method", "POST"}, {"length", 1000}});

    CHECK(get(s, "/counter/") == R"({"count":1})");
    CHECK(get(s, "/counter/") == R"({"count":2})");
    CHECK(get(s, "/spa/deep/client/route").find("<base href=\"/spa/\">") != std::string::npos);
}

TEST_CASE("routing: semver ranges, layouts, reserved paths and traversal") {
    TempDir apps;
    makeApp(apps.root() / "fx@1.0.0", "ttl: 1m\n");
    makeApp(apps.root() / "fx@1.2.0", "ttl: 1m\n");
    makeApp(apps.root() / "fx@2.0.0-beta.1", "ttl: 1m\n");
    makeApp(apps.root() / "nest" / "3.1.0", "ttl: 1m\n");
    makeApp(apps.root() / "simple", "ttl: 1m\nversion: 0.4.0\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());

    CHECK(get(s, "/fx/headers").find("base=/fx\n") != std::string::npos);
    CHECK(get(s, "/fx@1/headers").find("x-base=/fx@1\n") != std::string::npos);
    CHECK(get(s, "/fx@latest/headers").find("path=/headers\n") != std::string::npos);
    get(s, "/fx@%5E1.0.0/");
    get(s, "/fx@2.0.0-beta.1/");
    get(s, "/fx@3/", 404);
    get(s, "/nest/");
    get(s, "/simple@0.4/");
    get(s, "/nope/", 404);
    get(s, "/.well-known/security.txt", 404);
    get(s, "/_/api/nothing", 404);
    CHECK(statusOf(rawExchange(s.port(), "GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")) == 400);
    CHECK(statusOf(rawExchange(s.port(), "GET /fx%2fx/ HTTP/1.1\r\nHost: x\r\n\r\n")) == 400);
    CHECK(statusOf(rawExchange(s.port(), "GET /fx/../hello HTTP/1.1\r\nHost: x\r\n\r\n")) == 400);

    // The pool keys workers by name@version: three versions, three workers.
    auto workers = getJson(s, "/_/api/workers")["workers"];
    std::set<std::string> keys;
    for (auto& w : workers) keys.insert(w["key"].get<std::string>());
    CHECK(keys.count("fx@1.2.0") == 1);
    CHECK(keys.count("fx@2.0.0-beta.1") == 1);
    CHECK(keys.count("nest@3.1.0") == 1);
}

TEST_CASE("a bad manifest answers 500 naming the file and key; other apps keep working") {
    TempDir apps;
    makeApp(apps.root() / "good", "ttl: 1m\n");
    makeApp(apps.root() / "broken", "ttl: 1m\ntimeout: soon\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto body = get(s, "/broken/", 500);
    CHECK(body.find("manifest.yaml") != std::string::npos);
    CHECK(body.find("timeout") != std::string::npos);
    CHECK(get(s, "/good/") == "fixture ok");
    auto log = s.log();
    CHECK(log.find((apps.root() / "broken" / "manifest.yaml").string()) != std::string::npos);
    CHECK(log.find("'timeout'") != std::string::npos);
    auto listed = getJson(s, "/_/api/apps")["apps"];
    bool reported = false;
    for (auto& a : listed)
        if (a["name"] == "broken" && a["error"].is_object() && a["error"]["key"] == "timeout") reported = true;
    CHECK(reported);
}

TEST_CASE("HTTP limits: 400, 431, 413 before the body, 408 for slow headers") {
    TempDir apps;
    makeApp(apps.root() / "small", "ttl: 1m\nmaxBodySize: 1kb\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_HEADER_TIMEOUT_MS"] = "300";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    CHECK(statusOf(rawExchange(s.port(), "BLAH\r\n\r\n")) == 400);
    CHECK(statusOf(rawExchange(s.port(), "GET /small/ HTTP/1.1\r\nX-Big: " + std::string(40000, 'a') + "\r\n\r\n")) ==
          431);
    // Headers only: the 413 must come back without the body ever being sent.
    auto raw = rawExchange(s.port(), "POST /small/length HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
                           std::chrono::seconds(3));
    CHECK(statusOf(raw) == 413);
    auto ok = s.client().Post("/small/length", std::string(1000, 'a'), "text/plain");
    REQUIRE(ok);
    CHECK(ok->body == "1000");
    CHECK(statusOf(rawExchange(s.port(), "GET /small/ HTTP/1.1\r\nHost: x\r\n", std::chrono::seconds(3))) == 408);
}

TEST_CASE("a crashed worker fails only its in-flight requests with 502 and is replaced") {
    TempDir apps;
    makeApp(apps.root() / "crashy", "ttl: 1m\nthreads: 4\n");
    makeApp(apps.root() / "steady", "ttl: 1m\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto pid_before = get(s, "/crashy/pid");
    get(s, "/steady/");

    auto on_same_worker = std::async(std::launch::async, [&] { return s.client().Get("/crashy/sleep?ms=800"); });
    auto on_other_app = std::async(std::launch::async, [&] { return s.client().Get("/steady/sleep?ms=800"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto crashed = s.client().Get("/crashy/crash");
    REQUIRE(crashed);
    CHECK(crashed->status == 502);
    CHECK(json::parse(crashed->body)["error"] == "WORKER_CRASHED");
    auto same = on_same_worker.get();
    REQUIRE(same);
    CHECK(same->status == 502);
    auto other = on_other_app.get();
    REQUIRE(other);
    CHECK(other->status == 200);

    auto pid_after = get(s, "/crashy/pid");
    CHECK(pid_after != pid_before);
    CHECK(getJson(s, "/_/api/metrics")["totalWorkersFailed"].get<int>() >= 1);
    CHECK(s.log().find("killed by SIGABRT") != std::string::npos);
}

TEST_CASE("a request over its timeout answers 504; repeated timeouts retire the worker") {
    TempDir apps;
    makeApp(apps.root() / "sluggish", "ttl: 1m\ntimeout: 300ms\nthreads: 8\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto pid = get(s, "/sluggish/pid");
    auto r = s.client().Get("/sluggish/sleep?ms=1500");
    REQUIRE(r);
    CHECK(r->status == 504);
    CHECK(json::parse(r->body)["error"] == "GATEWAY_TIMEOUT");
    CHECK(get(s, "/sluggish/pid") == pid);  // one miss does not retire it (and a success resets the count)
    get(s, "/sluggish/sleep?ms=1500", 504);
    get(s, "/sluggish/sleep?ms=1500", 504);
    get(s, "/sluggish/sleep?ms=1500", 504);
    // Three in a row: the worker is retired and the next request gets a new one.
    std::string next;
    for (int i = 0; i < 50 && (next.empty() || next == pid); ++i) {
        next = get(s, "/sluggish/pid");
        if (next == pid) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(next != pid);
}

TEST_CASE("ephemeral apps get a fresh worker per request behind the gate; a full queue answers 503") {
    TempDir apps;
    makeApp(apps.root() / "fn", "ttl: 0\ntimeout: 10s\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_EPHEMERAL_CONCURRENCY"] = "1";
    env["RUNTIME_EPHEMERAL_QUEUE_LIMIT"] = "1";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    CHECK(get(s, "/fn/pid") != get(s, "/fn/pid"));

    std::vector<std::future<httplib::Result>> burst;
    for (int i = 0; i < 6; ++i)
        burst.push_back(std::async(std::launch::async, [&] { return s.client().Get("/fn/sleep?ms=400"); }));
    int ok = 0, saturated = 0;
    for (auto& f : burst) {
        auto r = f.get();
        REQUIRE(r);
        if (r->status == 200) ++ok;
        if (r->status == 503) {
            ++saturated;
            CHECK(json::parse(r->body)["error"] == "EPHEMERAL_WORKER_QUEUE_SATURATED");
            CHECK(r->get_header_value("retry-after") == "1");
        }
    }
    CHECK(ok >= 2);
    CHECK(saturated >= 1);
    CHECK(ok + saturated == 6);
    auto m = getJson(s, "/_/api/metrics");
    CHECK(m["ephemeralQueueLimit"] == 1);
    CHECK(m["activeWorkers"] == 0);
}

TEST_CASE("an init failure answers 503 with the reason and counts totalWorkersFailed") {
    TempDir apps;
    makeApp(apps.root() / "doomed", "ttl: 1m\nenv:\n  FIXTURE_FAIL_INIT: \"1\"\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto body = get(s, "/doomed/", 503);
    CHECK(body.find("fixture init failure") != std::string::npos);
    CHECK(getJson(s, "/_/api/metrics")["totalWorkersFailed"].get<int>() >= 1);
    get(s, "/_/api/health/live");  // the supervisor lives on
}

TEST_CASE("maxRequests recycles the worker") {
    TempDir apps;
    makeApp(apps.root() / "short", "ttl: 1m\nmaxRequests: 3\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto first = get(s, "/short/pid");
    CHECK(get(s, "/short/pid") == first);
    CHECK(get(s, "/short/pid") == first);
    CHECK(get(s, "/short/pid") != first);
    CHECK(getJson(s, "/_/api/metrics")["totalWorkersRetired"].get<int>() >= 1);
}

TEST_CASE("a 1 GiB download streams through a 256 KiB ring with bounded supervisor memory") {
    TempDir apps;
    makeApp(apps.root() / "big", "ttl: 1m\ntimeout: 120s\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_RING_BYTES"] = "262144";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    std::uint64_t received = 0;
    auto c = s.client();
    c.set_read_timeout(120);
    auto r = c.Get("/big/download?mb=1024", [&](const char*, size_t n) {
        received += n;
        return true;
    });
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(received == 1024ull * 1024 * 1024);
    auto rss = getJson(s, "/_/api/metrics")["supervisorRssBytes"].get<std::uint64_t>();
    if (buntime::test::sanitizeRun())
        MESSAGE("RSS bound not checked under sanitizers (shadow memory and quarantine)");
    else
        CHECK(rss < 64ull * 1024 * 1024);

    // And 50 MB up, streamed to the worker in chunks.
    makeApp(apps.root() / "up", "ttl: 1m\nmaxBodySize: 100mb\n");
    auto up = s.client().Post("/up/length", std::string(50 * 1024 * 1024, 'u'), "application/octet-stream");
    REQUIRE(up);
    CHECK(up->body == std::to_string(50 * 1024 * 1024));
}

TEST_CASE("sensitive variables never reach workers; manifest env does") {
    TempDir apps;
    makeApp(apps.root() / "envy", "ttl: 1m\nenv:\n  GREETING: hi\n");
    auto env = baseEnv(apps.root());
    env["MY_API_TOKEN"] = "secret-token";
    env["DATABASE_URL"] = "postgres://x";
    env["PLAIN_SETTING"] = "visible";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    CHECK(get(s, "/envy/env?name=MY_API_TOKEN") == "(unset)");
    CHECK(get(s, "/envy/env?name=DATABASE_URL") == "(unset)");
    CHECK(get(s, "/envy/env?name=PLAIN_SETTING") == "visible");
    CHECK(get(s, "/envy/env?name=GREETING") == "hi");
    auto log = s.log();
    CHECK(log.find("MY_API_TOKEN") != std::string::npos);
    CHECK(log.find("secret-token") == std::string::npos);
}

TEST_CASE("admin API: metrics keys, workers, Prometheus, and guarded mutations") {
    TempDir apps;
    makeApp(apps.root() / "adm", "ttl: 1m\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_ADMIN_TOKEN"] = "s3cret";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    auto pid = get(s, "/adm/pid");
    // With a token configured, reads over TCP need it too (issue 11); the probes do not.
    const httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};
    auto read = [&](const std::string& path) {
        auto r = s.client().Get(path, auth);
        REQUIRE(r);
        CHECK_MESSAGE(r->status == 200, path);
        return r->body;
    };
    CHECK(s.client().Get("/_/api/metrics")->status == 401);
    auto m = json::parse(read("/_/api/metrics"));
    for (const char* key :
         {"activeWorkers", "avgResponseTimeMs", "evictions", "ephemeralConcurrency", "ephemeralQueueDepth",
          "ephemeralQueueLimit", "hitRate", "hits", "misses", "memoryUsageMB", "requestsPerSecond", "totalRequests",
          "totalWorkersCreated", "totalWorkersFailed", "totalWorkersRetired", "uptimeMs"})
        CHECK_MESSAGE(m.contains(key), key);
    auto w = json::parse(read("/_/api/workers"))["workers"].at(0);
    CHECK(w["key"] == "adm@0.0.0");
    CHECK(std::to_string(w["pid"].get<int>()) == pid);
    CHECK(w["ring"]["toWorker"]["messages"].get<int>() >= 1);
    for (const char* key : {"ageMs", "avgResponseTimeMs", "errorCount", "idleMs", "requestCount", "status"})
        CHECK_MESSAGE(w.contains(key), key);
    auto prom = read("/_/metrics");
    CHECK(prom.find("buntime_total_requests_total ") != std::string::npos);
    CHECK(prom.find("# TYPE buntime_hit_rate gauge") != std::string::npos);
    CHECK(getJson(s, "/_/api/health/ready")["ready"] == true);

    auto c = s.client();
    auto denied = c.Post("/_/api/workers/adm@0.0.0/retire", "", "text/plain");
    REQUIRE(denied);
    CHECK(denied->status == 401);
    auto wrong = c.Post("/_/api/workers/adm@0.0.0/retire", {{"Authorization", "Bearer nope"}}, "", "text/plain");
    REQUIRE(wrong);
    CHECK(wrong->status == 401);
    auto retired = c.Post("/_/api/workers/adm@0.0.0/retire", {{"Authorization", "Bearer s3cret"}}, "", "text/plain");
    REQUIRE(retired);
    CHECK(retired->status == 200);
    std::string next = pid;
    for (int i = 0; i < 50 && next == pid; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        next = get(s, "/adm/pid");
    }
    CHECK(next != pid);
    auto missing = c.Post("/_/api/workers/none@1.0.0/retire", {{"Authorization", "Bearer s3cret"}}, "", "text/plain");
    REQUIRE(missing);
    CHECK(missing->status == 404);
}

TEST_CASE("mutating admin calls are refused when no token or admin socket is configured") {
    TempDir apps;
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto r = s.client().Post("/_/api/reload", "", "text/plain");
    REQUIRE(r);
    CHECK(r->status == 403);
}

TEST_CASE("SIGHUP drops caches and re-reads manifests") {
    TempDir apps;
    makeApp(apps.root() / "cfg", "ttl: 1m\nmaxBodySize: 1kb\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_WORKER_CONFIG_CACHE_TTL_MS"] = "600000";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    auto c = s.client();
    auto r = c.Post("/cfg/length", std::string(2000, 'a'), "text/plain");
    REQUIRE(r);
    CHECK(r->status == 413);
    writeFile(apps.root() / "cfg" / "manifest.yaml", "ttl: 1m\nmaxBodySize: 10kb\n");
    r = s.client().Post("/cfg/length", std::string(2000, 'a'), "text/plain");
    REQUIRE(r);
    CHECK(r->status == 413);  // still cached
    ::kill(s.pid(), SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    r = s.client().Post("/cfg/length", std::string(2000, 'a'), "text/plain");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(s.log().find("reload") != std::string::npos);
}

TEST_CASE("SIGTERM finishes in-flight requests, runs onTerminate, leaves no worker or segment") {
    auto shm_before = shmEntries();
    TempDir apps;
    auto hooks = apps.root() / "hooks.log";
    makeApp(apps.root() / "drain", "ttl: 1m\nthreads: 2\nenv:\n  FIXTURE_HOOK_LOG: " + hooks.string() + "\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto pid = std::stoi(get(s, "/drain/pid"));
    auto in_flight = std::async(std::launch::async, [&] { return s.client().Get("/drain/sleep?ms=600"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    auto status = s.signalAndWait(SIGTERM);
    REQUIRE(status);
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 0);
    auto r = in_flight.get();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "slept");
    CHECK_FALSE(processAlive(pid));
    CHECK(readFile(hooks).find("terminate " + std::to_string(pid)) != std::string::npos);
    auto shm_after = shmEntries();
    for (auto& e : shm_after) CHECK_MESSAGE(shm_before.count(e) == 1, "left in /dev/shm: " << e);
}

TEST_CASE("a second supervisor on the same state dir fails with a clear message") {
    TempDir apps, state;
    auto env = baseEnv(apps.root());
    env["RUNTIME_STATE_DIR"] = state.root().string();
    SupervisorProcess first(env);
    REQUIRE(first.waitReady());
    SupervisorProcess second(env);
    CHECK_FALSE(second.waitReady(std::chrono::seconds(5)));
    auto status = second.waitExit(std::chrono::seconds(5));
    REQUIRE(status);
    CHECK(WEXITSTATUS(*status) == 1);
    CHECK(second.log().find("another supervisor (pid " + std::to_string(first.pid()) + ")") != std::string::npos);
}

TEST_CASE("systemd notify: READY, STATUS, WATCHDOG and STOPPING reach NOTIFY_SOCKET") {
    TempDir apps, sock_dir;
    auto path = (sock_dir.root() / "notify.sock").string();
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    auto env = baseEnv(apps.root());
    env["NOTIFY_SOCKET"] = path;
    env["WATCHDOG_USEC"] = "200000";  // ping at least every 100 ms
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    std::string seen;
    auto collect = [&](std::chrono::milliseconds limit, std::initializer_list<std::string_view> until) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        auto all_seen = [&] {
            for (auto u : until)
                if (seen.find(u) == std::string::npos) return false;
            return true;
        };
        char buf[4096];
        while (std::chrono::steady_clock::now() < deadline && !all_seen()) {
            auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) seen.append(buf, static_cast<std::size_t>(n)).append("\n");
        }
    };
    collect(std::chrono::seconds(3), {"READY=1", "STATUS=serving", "WATCHDOG=1"});
    CHECK(seen.find("READY=1") != std::string::npos);
    CHECK(seen.find("STATUS=serving") != std::string::npos);
    CHECK(seen.find("MAINPID=" + std::to_string(s.pid())) != std::string::npos);
    CHECK(seen.find("WATCHDOG=1") != std::string::npos);
    auto status = s.signalAndWait(SIGTERM);
    REQUIRE(status);
    CHECK(WEXITSTATUS(*status) == 0);
    collect(std::chrono::seconds(1), {"STOPPING=1"});
    CHECK(seen.find("STOPPING=1") != std::string::npos);
    ::close(fd);
}

TEST_CASE("socket activation: the supervisor serves on a listening socket passed with LISTEN_FDS") {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 128) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    auto port = ntohs(addr.sin_port);

    auto env = baseEnv(EXAMPLES_DIR);
    env["PORT"] = "1";  // must be ignored: the inherited socket wins
    SupervisorProcess s(env, {}, fd, port);
    ::close(fd);  // only the supervisor holds it now
    REQUIRE(s.waitReady());
    CHECK(get(s, "/hello/") == "Hello from Buntime");
    CHECK(getJson(s, "/_/api/health")["listen"].get<std::string>().find("systemd socket") != std::string::npos);
}

TEST_CASE("idle workers get onIdle; a sliding TTL retires them and runs onTerminate") {
    TempDir apps;
    auto hooks = apps.root() / "hooks.log";
    makeApp(apps.root() / "idler",
            "ttl: 1500ms\nidleTimeout: 300ms\nenv:\n  FIXTURE_HOOK_LOG: " + hooks.string() + "\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto pid = get(s, "/idler/pid");
    // Requests inside the TTL renew it: the same worker keeps serving.
    for (int i = 0; i < 4; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        CHECK(get(s, "/idler/pid") == pid);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline && readFile(hooks).find("terminate " + pid) == std::string::npos)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto log = readFile(hooks);
    CHECK(log.find("idle " + pid) != std::string::npos);
    CHECK(log.find("terminate " + pid) != std::string::npos);
    CHECK(log.find("idle " + pid) < log.find("terminate " + pid));
    CHECK(get(s, "/idler/pid") != pid);
    CHECK(getJson(s, "/_/api/metrics")["totalWorkersRetired"].get<int>() >= 1);
}

TEST_CASE("a full pool evicts the least recently used worker") {
    TempDir apps;
    makeApp(apps.root() / "one", "ttl: 1m\n");
    makeApp(apps.root() / "two", "ttl: 1m\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_POOL_SIZE"] = "1";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    auto first = get(s, "/one/pid");
    get(s, "/two/pid");
    CHECK(get(s, "/one/pid") != first);  // `one` was evicted to make room for `two`
    auto m = getJson(s, "/_/api/metrics");
    CHECK(m["evictions"].get<int>() >= 2);
    CHECK(m["activeWorkers"].get<int>() <= 2);
}

TEST_CASE("the admin unix socket allows mutating calls without a token") {
    TempDir apps, sock_dir;
    makeApp(apps.root() / "adm", "ttl: 1m\n");
    auto sock = (sock_dir.root() / "admin.sock").string();
    auto env = baseEnv(apps.root());
    env["RUNTIME_ADMIN_SOCKET"] = sock;
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    get(s, "/adm/pid");
    CHECK(s.client().Post("/_/api/reload", "", "text/plain")->status == 403);  // TCP, no token: refused
    httplib::Client admin(sock);
    admin.set_address_family(AF_UNIX);
    auto r = admin.Post("/_/api/reload", "", "text/plain");
    REQUIRE(r);
    CHECK(r->status == 200);
    r = admin.Post("/_/api/workers/adm@0.0.0/retire", "", "text/plain");
    REQUIRE(r);
    CHECK(r->status == 404);  // reload already recycled it
    CHECK((fs::status(sock).permissions() & fs::perms::others_all) == fs::perms::none);
}

TEST_CASE("a timed-out request is cancelled inside the worker") {
    TempDir apps;
    auto hooks = apps.root() / "hooks.log";
    makeApp(apps.root() / "canc", "ttl: 1m\ntimeout: 300ms\nenv:\n  FIXTURE_HOOK_LOG: " + hooks.string() + "\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto pid = get(s, "/canc/pid");
    get(s, "/canc/wait-for-cancel", 504);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(6);
    while (std::chrono::steady_clock::now() < deadline && readFile(hooks).find("cancel-") == std::string::npos)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(readFile(hooks).find("cancel-seen " + pid) != std::string::npos);
    CHECK(readFile(hooks).find("cancel-missed") == std::string::npos);
}

TEST_CASE("admin API answers have exactly the key sets and value types of tests/golden/admin") {
    // The golden files are what the fakes of tests/ctl, tests/harness and tests/admin serve; a
    // live supervisor must agree with them key for key and type for type (values differ). In an
    // array each live element must match one of the golden elements (a live or an offline
    // worker row, a loaded or a broken app).
    std::function<std::string(const json&, const json&, const std::string&)> mismatch =
        [&](const json& golden, const json& live, const std::string& where) -> std::string {
        auto kind = [](const json& v) -> std::string {
            if (v.is_number_float()) return "float";
            if (v.is_number()) return "integer";
            return v.type_name();
        };
        if (kind(golden) != kind(live)) return where + ": " + kind(live) + ", golden has " + kind(golden);
        if (golden.is_object()) {
            for (const auto& [key, value] : golden.items())
                if (!live.contains(key)) return where + "." + key + ": missing";
            for (const auto& [key, value] : live.items()) {
                if (!golden.contains(key)) return where + "." + key + ": not in the golden file";
                if (auto m = mismatch(golden[key], value, where + "." + key); !m.empty()) return m;
            }
        }
        if (golden.is_array()) {
            for (std::size_t i = 0; i < live.size(); ++i) {
                const std::string at = where + "[" + std::to_string(i) + "]";
                std::string first = golden.empty() ? at + ": the golden array is empty" : "";
                bool matched = false;
                for (const auto& variant : golden) {
                    auto m = mismatch(variant, live[i], at);
                    matched = m.empty();
                    if (matched) break;
                    if (first.empty()) first = m;
                }
                if (!matched) return first;
            }
        }
        return "";
    };

    TempDir apps;
    makeApp(apps.root() / "good@1.0.0", "entrypoint: app.so\nttl: 5m\n");
    makeApp(apps.root() / "worse@1.0.0", "ttl: 1m\nmaxRequests: lots\n");  // a version row with an error
    makeApp(apps.root() / "bad", "ttl: 1m\ntimeout: abc\n");               // an app-level error row
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    get(s, "/good/");  // a live worker, so the rows carry pid, RSS and rings

    for (const std::string name : {"health", "metrics", "workers", "apps"}) {
        CAPTURE(name);
        const std::string text = readFile(fs::path(BUNTIME_GOLDEN_DIR) / (name + ".json"));
        REQUIRE_FALSE(text.empty());
        const json golden = json::parse(text);
        const json live = getJson(s, "/_/api/" + name);
        CHECK(mismatch(golden, live, name) == "");
    }
    // Every golden variant was compared: a loaded app, a broken version, an app-level error.
    std::set<std::string> variants;
    const json apps_reply = getJson(s, "/_/api/apps");
    for (const auto& app : apps_reply["apps"])
        variants.insert(app["error"].is_null() ? "loaded" : app.contains("dir") ? "broken version" : "app error");
    CHECK(variants.size() == 3);
    CHECK(getJson(s, "/_/api/workers")["workers"].at(0)["pid"].is_number());
}
