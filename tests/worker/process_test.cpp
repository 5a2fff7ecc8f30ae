// SPDX-License-Identifier: MIT
// Drives real buntime-worker processes over the shm transport: every entrypoint kind,
// init errors, hooks, limits, throwing handlers, big bodies, request framing (interleaved
// ids, duplicate ids, malformed and refused continuations), concurrency, cancel, terminate,
// and exit when the supervisor dies.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "buntime/app/app.h"
#include "buntime/base/unique_fd.h"
#include "worker_client.h"

using namespace buntime;
using namespace buntime::test;

namespace {

WorkerOptions soApp(const TempDir& dir, const char* fixture, std::vector<std::string> args = {}) {
    dir.copy(fixture, "app.so");
    WorkerOptions o;
    o.app_dir = dir.path();
    o.args = std::move(args);
    return o;
}

std::string initFailure(WorkerOptions o, int* exit_code = nullptr) {
    WorkerClient w(std::move(o));
    Startup s = w.startup();
    CHECK_FALSE(s.ready);
    auto code = w.waitExit();
    REQUIRE(code);
    CHECK(*code != 0);
    if (exit_code) *exit_code = *code;
    return s.reason;
}

bool contains(const std::string& hay, std::string_view needle) { return hay.find(needle) != std::string::npos; }

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xff);
    return s;
}

}  // namespace

TEST_CASE(".so entrypoint: Ready, request fields reach the app, response comes back") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING, {"--threads", "3", "--concurrency", "9"}));
    Startup s = w.startup();
    REQUIRE(s.ready);
    CHECK(s.info.entrypoint_kind == "so");
    CHECK(s.info.threads == 3);
    CHECK(s.info.concurrency == 9);

    Reply r = w.request("POST", "/echo", "hello body", {{"x-test", "42"}, {"accept", "*/*"}}, "status=202&a=b");
    REQUIRE_FALSE(r.error);
    CHECK(r.head.status == 202);
    CHECK(r.body == "hello body");
    CHECK(r.head.content_length == 10);
    CHECK(r.frames == 1);  // small response: one frame with head and body
    CHECK(r.header("x-method") == "POST");
    CHECK(r.header("x-path") == "/echo");
    CHECK(r.header("x-query") == "status=202&a=b");
    CHECK(r.header("x-base") == "/fixture");
    CHECK(r.header("x-target") == "/fixture/echo?status=202&a=b");
    CHECK(contains(*r.header("x-request-id"), "req-"));
    CHECK(r.header("x-test") == "42");  // lookup is case-insensitive
    CHECK(r.header("x-header-count") == "2");

    Reply hooks = w.get("/hooks");
    CHECK(contains(hooks.body, "init fixture@1.0.0 threads=3 concurrency=9"));
}

TEST_CASE("raw C ABI app: header iteration, status, pieces of body") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_RAW));
    REQUIRE(w.startup().ready);
    Reply r = w.request("GET", "/", {}, {{"a", "1"}, {"b", "2"}});
    REQUIRE_FALSE(r.error);
    CHECK(r.head.status == 201);
    CHECK(r.body == "raw ok");
    CHECK(r.header("x-raw") == "yes");
    CHECK(r.header("x-names") == "a;b;");
    w.idle();  // NULL hooks are fine
    CHECK(w.get("/").body == "raw ok");
}

TEST_CASE("exec entrypoint: the app executable replaces buntime-worker (same pid) and keeps state") {
    TempDir dir;
    dir.copy(FIXTURE_EXEC, "app");
    std::filesystem::permissions(dir / "app", std::filesystem::perms::owner_all);
    WorkerOptions o;
    o.app_dir = dir.path();
    o.name = "counter";
    WorkerClient w(o);
    Startup s = w.startup();
    REQUIRE(s.ready);
    CHECK(s.info.entrypoint_kind == "exec");
    const std::string pid = "pid=" + std::to_string(w.pid());
    CHECK(w.get("/").body == pid + " count=1");
    CHECK(w.get("/").body == pid + " count=2");
    CHECK(readFile("/proc/" + std::to_string(w.pid()) + "/cmdline").starts_with("buntime: worker counter@1.0.0"));
    w.terminate(1000);
    CHECK(w.waitExit() == 0);
}

TEST_CASE("process title shows the app in ps and comm") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING));
    REQUIRE(w.startup().ready);
    std::string cmdline = readFile("/proc/" + std::to_string(w.pid()) + "/cmdline");
    CHECK(cmdline == std::string("buntime: worker fixture@1.0.0") + '\0');
    CHECK(readFile("/proc/" + std::to_string(w.pid()) + "/comm") == "buntime: worker\n");
}

TEST_CASE("static entrypoint: files, content types, SPA fallback, <base href>, no traversal") {
    TempDir outside;
    outside.write("secret.txt", "top secret");
    TempDir dir;
    dir.write("index.html", "<!doctype html><html><head><title>t</title></head><body>spa</body></html>");
    dir.write("assets/app.js", "console.log(1)");
    dir.write("assets/style.css", "body{}");
    dir.write("docs/index.html", "<p>docs</p>");
    dir.write(".env", "SECRET=1");
    dir.write("manifest.yaml", "env:\n  SECRET: 1\n");
    std::filesystem::create_symlink(outside / "secret.txt", dir / "leak.txt");
    WorkerOptions o;
    o.app_dir = dir.path();
    o.args = {"--inject-base"};
    WorkerClient w(o);
    Startup s = w.startup();
    REQUIRE(s.ready);
    CHECK(s.info.entrypoint_kind == "static");

    Reply index = w.get("/");
    CHECK(index.head.status == 200);
    CHECK(index.header("content-type") == "text/html; charset=utf-8");
    CHECK(contains(index.body, "<head><base href=\"/fixture/\"><title>"));
    CHECK(index.head.content_length == static_cast<std::int64_t>(index.body.size()));

    Reply js = w.get("/assets/app.js");
    CHECK(js.head.status == 200);
    CHECK(js.body == "console.log(1)");
    CHECK(js.header("content-type") == "text/javascript; charset=utf-8");
    CHECK(w.get("/assets/style.css").header("content-type") == "text/css; charset=utf-8");
    CHECK(w.get("/docs/").body == "<p>docs</p>");

    Reply route = w.get("/users/42/settings");  // client-side route → the SPA shell
    CHECK(route.head.status == 200);
    CHECK(contains(route.body, "<body>spa</body>"));
    CHECK(w.get("/assets/missing.js").head.status == 404);

    for (const char* bad : {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2E%2E/%2e%2e/x.txt", "/leak.txt", "/.env",
                            "/manifest.yaml", "/a%00b.txt"}) {
        Reply r = w.get(bad);
        CAPTURE(bad);
        CHECK(r.head.status >= 400);
        CHECK_FALSE(contains(r.body, "secret"));
        CHECK_FALSE(contains(r.body, "SECRET"));
    }

    Reply head = w.request("HEAD", "/assets/app.js");
    CHECK(head.head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.head.content_length == 14);
    Reply post = w.request("POST", "/");
    CHECK(post.head.status == 405);
    CHECK(post.header("allow") == "GET, HEAD");

    // x-base is HTML-escaped.
    proto::RequestHead h;
    h.method = "GET";
    h.path = "/";
    h.base = "/x\"><script>";
    auto bytes = proto::encode(h);
    const std::uint64_t id = 9000;
    w.sendFrame(proto::frame(proto::Kind::Request, id, bytes));
    Reply esc = w.wait(id);
    CHECK(contains(esc.body, "<base href=\"/x&quot;&gt;&lt;script&gt;/\">"));
}

TEST_CASE("entrypoint order: index.html before app.so unless --entrypoint says otherwise") {
    TempDir dir;
    dir.write("index.html", "<html><head></head>static</html>");
    dir.copy(FIXTURE_BLOCKING, "app.so");
    {
        WorkerOptions o;
        o.app_dir = dir.path();
        WorkerClient w(o);
        CHECK(w.startup().info.entrypoint_kind == "static");
    }
    WorkerOptions o;
    o.app_dir = dir.path();
    o.args = {"--entrypoint", "app.so"};
    WorkerClient w(o);
    CHECK(w.startup().info.entrypoint_kind == "so");
}

TEST_CASE("bad entrypoints fail init with a reason and a non-zero exit") {
    TempDir outside;
    outside.copy(FIXTURE_BLOCKING, "app.so");
    {
        TempDir empty;
        WorkerOptions o;
        o.app_dir = empty.path();
        CHECK(contains(initFailure(o), "no entrypoint"));
        o.args = {"--entrypoint", "missing.so"};
        CHECK(contains(initFailure(o), "not found"));
        o.args = {"--entrypoint", "../" + std::filesystem::path(outside.path()).filename().string() + "/app.so"};
        CHECK(contains(initFailure(o), "escapes"));
        o.args = {"--entrypoint", outside / "app.so"};
        CHECK(contains(initFailure(o), "escapes"));
    }
    {
        TempDir dir;
        std::filesystem::create_symlink(outside / "app.so", dir / "app.so");
        WorkerOptions o;
        o.app_dir = dir.path();
        CHECK(contains(initFailure(o), "escapes"));
    }
    {
        TempDir dir;
        CHECK(contains(initFailure(soApp(dir, FIXTURE_NOSYM)), "buntime_app"));
    }
    {
        TempDir dir;
        dir.write("app.so", "this is not an ELF file");
        WorkerOptions o;
        o.app_dir = dir.path();
        CHECK(contains(initFailure(o), "dlopen"));
    }
    {
        TempDir dir;
        auto o = soApp(dir, FIXTURE_BLOCKING);
        o.env = {{"FIXTURE_INIT", "throw"}};
        int code = 0;
        CHECK(contains(initFailure(o, &code), "fixture init exploded"));
        CHECK(code == 1);
    }
    {
        TempDir dir;
        auto o = soApp(dir, FIXTURE_RAW);
        o.env = {{"FIXTURE_INIT", "fail"}};
        CHECK(contains(initFailure(o), "raw fixture refused to start"));
        o.env = {{"FIXTURE_ABI", "2"}};
        CHECK(contains(initFailure(o), "ABI version 2"));
    }
    {
        TempDir dir;
        auto o = soApp(dir, FIXTURE_BLOCKING, {"--threads", "zero"});
        int code = 0;
        CHECK(contains(initFailure(o, &code), "--threads"));
        CHECK(code == 2);
    }
}

TEST_CASE("hooks: init, onIdle on Idle, onTerminate on Terminate; in-flight work finishes") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING, {"--threads", "2"}));
    REQUIRE(w.startup().ready);
    CHECK(readFile(dir / "hooks.log").starts_with("init fixture@1.0.0"));
    CHECK_FALSE(contains(w.get("/hooks").body, "idle"));

    w.idle();
    bool idle_seen = false;
    for (int i = 0; i < 200 && !idle_seen; ++i) {
        idle_seen = contains(w.get("/hooks").body, "idle");
        if (!idle_seen) std::this_thread::sleep_for(10ms);
    }
    CHECK(idle_seen);
    CHECK(w.get("/echo").head.status == 200);  // still serving after Idle

    const std::uint64_t slow = w.send("GET", "/block", {}, {}, "ms=300");
    std::this_thread::sleep_for(50ms);  // let it start on a pool thread
    w.terminate(10000);
    Reply refused = w.get("/echo");
    CHECK(refused.head.status == 503);
    Reply done = w.wait(slow);
    CHECK(done.head.status == 200);
    CHECK(done.body == "blocked");
    CHECK(w.waitExit() == 0);
    const std::string log = readFile(dir / "hooks.log");
    CHECK(contains(log, "idle\n"));
    CHECK(contains(log, "terminate\n"));
}

TEST_CASE("terminate: the grace bounds how long in-flight work may run; exit is 0") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING));
    REQUIRE(w.startup().ready);
    const std::uint64_t stuck = w.send("GET", "/block", {}, {}, "ms=20000");
    std::this_thread::sleep_for(50ms);
    w.terminate(100);
    CHECK(w.waitExit(10s) == 0);
    CHECK_FALSE(w.hasReply(stuck));
}

TEST_CASE("response limits: over 100 headers, an 8 KiB value or 64 KiB in total fail that request only") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING));
    REQUIRE(w.startup().ready);
    Reply ok = w.get("/headers", "n=100&size=10");
    REQUIRE_FALSE(ok.error);
    CHECK(ok.head.headers.size() == 100);
    Reply many = w.get("/headers", "n=101&size=10");
    CHECK(many.error);
    CHECK(contains(many.reason, "100 headers"));
    CHECK_FALSE(w.get("/headers", "n=1&size=8192").error);
    Reply big_value = w.get("/headers", "n=1&size=8193");
    CHECK(big_value.error);
    CHECK(contains(big_value.reason, "8192"));
    Reply total = w.get("/headers", "n=10&size=7000");
    CHECK(total.error);
    CHECK(contains(total.reason, "65536"));
    Reply crlf = w.get("/bad-header");
    CHECK(crlf.head.status == 200);
    CHECK_FALSE(crlf.header("x-bad"));
    CHECK(crlf.header("x-rc") == std::to_string(BUNTIME_E_INVALID));
    CHECK(w.get("/echo").head.status == 200);
}

TEST_CASE("a throwing handler fails that request; the worker keeps serving") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING));
    REQUIRE(w.startup().ready);
    Reply r = w.get("/throw");
    CHECK(r.error);
    CHECK(contains(r.reason, "fixture handler exploded"));
    CHECK(w.get("/echo").head.status == 200);

    TempDir adir;
    WorkerClient a(soApp(adir, FIXTURE_ASYNC));
    REQUIRE(a.startup().ready);
    Reply ar = a.get("/throw");
    CHECK(ar.error);
    CHECK(contains(ar.reason, "async fixture exploded"));
    Reply late = a.get("/late-fail");
    CHECK(late.error);
    CHECK(late.reason == "failed later");
    CHECK(a.get("/inline").body == "inline");
}

TEST_CASE("100 MB request and response bodies pass a 256 KiB ring; --max-body is enforced") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING, {"--max-body", std::to_string(128u << 20)}));
    REQUIRE(w.startup().ready);
    const std::string body = pattern(100u << 20);
    Reply echo = w.request("POST", "/echo", body);
    REQUIRE_FALSE(echo.error);
    CHECK(echo.header("x-length") == std::to_string(body.size()));
    CHECK(echo.body.size() == body.size());
    CHECK(echo.body == body);
    CHECK(echo.frames > 100);

    Reply big = w.get("/big", "bytes=" + std::to_string(100u << 20));
    REQUIRE_FALSE(big.error);
    CHECK(big.body.size() == (100u << 20));
    CHECK(big.head.content_length == -1);  // streamed: length unknown up front
    CHECK(big.body.substr(0, 3) == "abc");

    TempDir small;
    WorkerClient s(soApp(small, FIXTURE_BLOCKING, {"--max-body", "1000"}));
    REQUIRE(s.startup().ready);
    CHECK(s.request("POST", "/echo", std::string(1001, 'x')).head.status == 413);
    CHECK(s.request("POST", "/echo", std::string(300000, 'x')).head.status == 413);  // refused mid-assembly
    CHECK(s.request("POST", "/echo", std::string(1000, 'x')).body.size() == 1000);
}

TEST_CASE("request frames of different ids may interleave") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING));
    REQUIRE(w.startup().ready);
    const auto kReq = proto::toWire(proto::Kind::Request);
    const std::uint64_t a = 7001, b = 7002;
    auto ha = WorkerClient::requestHead("POST", "/echo", 6);
    auto hb = WorkerClient::requestHead("POST", "/echo", 6);
    auto part = [](const char* s) { return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s), 3); };
    w.sendFrame({kReq, proto::kFlagMore, a, ha, part("AAA")});
    w.sendFrame({kReq, proto::kFlagMore, b, hb, part("bbb")});
    w.sendFrame({proto::kContinuationKind, 0, b, {}, part("BBB")});
    w.sendFrame({proto::kContinuationKind, 0, a, {}, part("aaa")});
    CHECK(w.wait(a).body == "AAAaaa");
    CHECK(w.wait(b).body == "bbbBBB");
    // A malformed head is answered with an error and dropped.
    const char junk[] = "junk";
    w.sendFrame({kReq, 0, 7003, std::span<const std::byte>(reinterpret_cast<const std::byte*>(junk), 4), {}});
    CHECK(w.wait(7003).error);
    CHECK(w.get("/echo").head.status == 200);
}

TEST_CASE("a duplicate id while assembling replaces the older request and frees its slot") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING, {"--concurrency", "2"}));
    REQUIRE(w.startup().ready);
    const auto kReq = proto::toWire(proto::Kind::Request);
    auto part = [](const char* s) { return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s), 3); };
    const std::uint64_t id = 7101;
    auto head = WorkerClient::requestHead("POST", "/echo", 6);
    w.sendFrame({kReq, proto::kFlagMore, id, head, part("old")});
    w.sendFrame({kReq, proto::kFlagMore, id, head, part("new")});
    w.sendFrame({proto::kContinuationKind, 0, id, {}, part("NEW")});
    CHECK(w.wait(id).body == "newNEW");
    // Both slots are free again: two overlapping requests pass, a third is refused.
    const std::uint64_t a = w.send("GET", "/block", {}, {}, "ms=300");
    const std::uint64_t b = w.send("GET", "/block", {}, {}, "ms=300");
    std::this_thread::sleep_for(50ms);
    CHECK(w.get("/echo").head.status == 503);
    CHECK(w.wait(a).body == "blocked");
    CHECK(w.wait(b).body == "blocked");
}

TEST_CASE("a continuation frame with a head fails its request; the worker keeps serving") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING));
    REQUIRE(w.startup().ready);
    const std::uint64_t id = 7201;
    auto head = WorkerClient::requestHead("POST", "/echo", 6);
    const char body[] = "abc";
    const auto part = std::span<const std::byte>(reinterpret_cast<const std::byte*>(body), 3);
    w.sendFrame({proto::toWire(proto::Kind::Request), proto::kFlagMore, id, head, part});
    w.sendFrame({proto::kContinuationKind, 0, id, head, part});
    Reply r = w.wait(id);
    CHECK(r.error);
    CHECK(contains(r.reason, "malformed continuation"));
    CHECK(w.request("POST", "/echo", "after").body == "after");
}

TEST_CASE("a request refused before its body arrived is answered once; its remaining frames are dropped") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_ASYNC, {"--concurrency", "1"}));
    REQUIRE(w.startup().ready);
    const std::uint64_t busy = w.send("GET", "/sleep", {}, {}, "ms=200");
    const std::uint64_t id = 7301;
    auto head = WorkerClient::requestHead("POST", "/inline", 6);
    auto part = [](const char* s) { return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s), 3); };
    w.sendFrame({proto::toWire(proto::Kind::Request), proto::kFlagMore, id, head, part("AAA")});
    w.sendFrame({proto::kContinuationKind, 0, id, {}, part("aaa")});
    CHECK(w.wait(id).head.status == 503);
    CHECK(w.wait(busy).body == "slept");
    CHECK(w.get("/inline").body == "inline");  // answered after anything the worker sent for `id`
    CHECK_FALSE(w.hasReply(id));
}

TEST_CASE("async handlers overlap without holding threads; blocking ones are bounded by --threads") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_ASYNC, {"--threads", "1", "--concurrency", "100"}));
    REQUIRE(w.startup().ready);
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < 50; ++i) ids.push_back(w.send("GET", "/sleep", {}, {}, "ms=400"));
    for (auto id : ids) CHECK(w.wait(id).body == "slept");
    CHECK(std::stoi(w.get("/max").body) >= 40);

    TempDir bdir;
    WorkerClient b(soApp(bdir, FIXTURE_BLOCKING, {"--threads", "3"}));
    REQUIRE(b.startup().ready);
    ids.clear();
    for (int i = 0; i < 9; ++i) ids.push_back(b.send("GET", "/block", {}, {}, "ms=60"));
    for (auto id : ids) CHECK(b.wait(id).body == "blocked");
    CHECK(b.get("/max").body == "3");
}

TEST_CASE("over the concurrency limit a request gets 503; cancel frees its slot and drops the reply") {
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_ASYNC, {"--concurrency", "2"}));
    REQUIRE(w.startup().ready);
    const std::uint64_t first = w.send("GET", "/sleep", {}, {}, "ms=150");
    const std::uint64_t second = w.send("GET", "/sleep", {}, {}, "ms=300");
    Reply third = w.get("/inline");
    CHECK(third.head.status == 503);
    w.cancel(first);
    std::this_thread::sleep_for(20ms);
    CHECK(w.get("/inline").body == "inline");  // the cancelled request's slot is free again
    CHECK(w.wait(second).body == "slept");     // the cancelled one (150 ms) would have answered first
    CHECK_FALSE(w.hasReply(first));
}

TEST_CASE("a slot is free as soon as the last frame of its response arrives") {
    // A supervisor may send the next request the moment a response ends; at --concurrency 1
    // none of these back-to-back requests may be refused. All on one CPU, so the wakeup of
    // the worker's reader can preempt the handler thread right after its last frame.
    cpu_set_t saved;
    REQUIRE(::sched_getaffinity(0, sizeof saved, &saved) == 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (CPU_ISSET(c, &saved)) {
            CPU_SET(c, &one);
            break;
        }
    }
    REQUIRE(::sched_setaffinity(0, sizeof one, &one) == 0);
    TempDir dir;
    WorkerClient w(soApp(dir, FIXTURE_BLOCKING, {"--threads", "2", "--concurrency", "1"}));
    REQUIRE(w.startup().ready);
    REQUIRE(w.get("/echo").head.status == 200);  // the handler threads exist now
    // They (all but the reader, whose tid is the pid) yield to any wakeup.
    int lowered = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(w.pid()) + "/task")) {
        const pid_t tid = std::stoi(task.path().filename().string());
        sched_param param{};
        if (tid != w.pid() && ::sched_setscheduler(tid, SCHED_IDLE, &param) == 0) ++lowered;
    }
    REQUIRE(lowered >= 2);
    int refused = 0;
    for (int i = 0; i < 500; ++i) {
        if (w.get("/echo").head.status == 503) ++refused;
    }
    ::sched_setaffinity(0, sizeof saved, &saved);
    CHECK(refused == 0);
}

TEST_CASE("the worker exits when its supervisor dies") {
    // This binary re-run as an intermediate "supervisor" that spawns a worker and hangs.
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    base::UniqueFd read_end(pipefd[0]);
    base::UniqueFd write_end(pipefd[1]);
    TempDir dir;
    dir.copy(FIXTURE_BLOCKING, "app.so");
    pid_t mid = ::fork();
    REQUIRE(mid >= 0);
    if (mid == 0) {
        ::close(pipefd[0]);
        ::dup2(pipefd[1], 3);
        ::setenv("WORKER_TEST_INTERMEDIATE", dir.path().c_str(), 1);
        ::execl("/proc/self/exe", "worker_process_test", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    write_end.reset();
    pid_t worker = 0;
    REQUIRE(::read(read_end.get(), &worker, sizeof worker) == sizeof worker);
    read_end.reset();
    REQUIRE(worker > 0);
    CHECK(::kill(worker, 0) == 0);
    ::kill(mid, SIGKILL);
    ::waitpid(mid, nullptr, 0);
    bool gone = false;
    for (int i = 0; i < 500 && !gone; ++i) {
        std::string stat = readFile("/proc/" + std::to_string(worker) + "/stat");
        gone = stat.empty() || contains(stat, ") Z ");
        if (!gone) std::this_thread::sleep_for(10ms);
    }
    CHECK(gone);
}

int main(int argc, char** argv) {
    if (const char* dir = std::getenv("WORKER_TEST_INTERMEDIATE")) {
        ::unsetenv("WORKER_TEST_INTERMEDIATE");
        WorkerOptions o;
        o.app_dir = dir;
        WorkerClient w(o);
        if (!w.startup().ready) return 1;
        pid_t pid = w.pid();
        if (::write(3, &pid, sizeof pid) != sizeof pid) return 1;
        ::pause();
        return 0;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
