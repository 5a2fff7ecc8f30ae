// SPDX-License-Identifier: MIT
// Per-app logs through the real binary: workers' stdout and stderr reach the supervisor's log
// and GET /_/api/apps/:name/logs (tail, follow=1 as server-sent events) with app, version,
// pid and stream; the ring bound; escaping of bytes that are not UTF-8 and of control bytes;
// long lines; a last line without newline; a command app; a flooding app does not stop the
// supervisor from serving; a follower does not hold shutdown.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "supervisor_process.h"

using namespace buntime::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

void makeApp(const fs::path& dir, const std::string& name) {
    installApp(dir, LOG_APP_SO, "name: " + name + "\nversion: 1.0.0\nttl: 5m\ntimeout: 60s\n");
}

// The lines of GET …/logs, each parsed as strict JSON (nlohmann refuses invalid UTF-8).
std::vector<json> logs(SupervisorProcess& s, const std::string& app, const std::string& query = "tail=1000") {
    std::vector<json> out;
    auto r = s.client().Get("/_/api/apps/" + app + "/logs?" + query);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    CHECK(r->get_header_value("content-type") == "application/x-ndjson");
    std::istringstream in(r->body);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
}

template <typename Pred>
bool waitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

const json* findLine(const std::vector<json>& lines, const std::string& text) {
    for (const auto& l : lines)
        if (l.at("line") == text) return &l;
    return nullptr;
}

std::string get(SupervisorProcess& s, const std::string& path) {
    auto r = s.client().Get(path);
    return r && r->status == 200 ? r->body : std::string("(failed)");
}

// Reads from `fd` into `buf` until it holds `needle`; false on timeout or close.
bool readUntil(int fd, std::string& buf, const std::string& needle, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char chunk[4096];
    while (buf.find(needle) == std::string::npos) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n == 0) return false;
        if (n > 0) buf.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

TEST_CASE("tail: stdout and stderr lines with app, version, pid and stream; the ring keeps the last N") {
    TempDir apps;
    makeApp(apps.root() / "logapp", "logapp");
    auto env = baseEnv(apps.root());
    env["RUNTIME_APP_LOG_LINES"] = "50";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());

    const std::string pid = get(s, "/logapp/pid");
    REQUIRE(pid != "(failed)");
    REQUIRE(get(s, "/logapp/print?tag=a&n=3") == "printed");
    std::vector<json> lines;
    REQUIRE(waitFor([&] {
        lines = logs(s, "logapp");
        return findLine(lines, "out a 2") && findLine(lines, "err a");
    }));
    const json* out = findLine(lines, "out a 0");
    REQUIRE(out);
    CHECK((*out)["app"] == "logapp");
    CHECK((*out)["version"] == "1.0.0");
    CHECK((*out)["stream"] == "stdout");
    CHECK(std::to_string((*out)["pid"].get<long>()) == pid);
    CHECK((*out)["time"].get<std::string>().size() == 24);  // 2026-11-30T03:04:05.678Z
    const json* err = findLine(lines, "err a");
    REQUIRE(err);
    CHECK((*err)["stream"] == "stderr");
    CHECK(std::to_string((*err)["pid"].get<long>()) == pid);
    // The supervisor's log has each line once, tagged.
    CHECK(s.log().find("[logapp@1.0.0] pid=" + std::to_string(s.pid()) + " worker=" + pid + " stdout: out a 1\n") !=
          std::string::npos);
    CHECK(s.log().find(" worker=" + pid + " stderr: err a\n") != std::string::npos);

    // tail=N gives the last N, oldest first.
    auto two = logs(s, "logapp", "tail=2");
    REQUIRE(two.size() == 2);
    CHECK(two[1] == lines.back());

    // 120 more lines: only the last 50 are kept.
    REQUIRE(get(s, "/logapp/print?tag=b&n=120") == "printed");
    REQUIRE(waitFor([&] {
        lines = logs(s, "logapp");
        return findLine(lines, "err b") != nullptr;
    }));
    CHECK(lines.size() == 50);
    CHECK(findLine(lines, "out b 119"));
    CHECK_FALSE(findLine(lines, "out b 69"));  // 120 + "err b": the 71 oldest of them went
    CHECK(findLine(lines, "out b 71"));
    CHECK_FALSE(findLine(lines, "out a 0"));

    // An unknown app is 404; a known one that printed nothing answers an empty list; a bad tail 400.
    auto r = s.client().Get("/_/api/apps/nosuchapp/logs");
    REQUIRE(r);
    CHECK(r->status == 404);
    makeApp(apps.root() / "quiet", "quiet");
    r = s.client().Get("/_/api/apps/quiet/logs");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.empty());
    r = s.client().Get("/_/api/apps/logapp/logs?tail=abc");
    REQUIRE(r);
    CHECK(r->status == 400);
}

TEST_CASE("bytes that are not UTF-8 and control bytes arrive escaped; a forged log line stays an app line") {
    TempDir apps;
    makeApp(apps.root() / "logapp", "logapp");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    REQUIRE(get(s, "/logapp/bytes") == "printed");
    REQUIRE(get(s, "/logapp/long") == "printed");
    std::vector<json> lines;
    REQUIRE(waitFor([&] {
        lines = logs(s, "logapp");
        return findLine(lines, "after long") != nullptr;
    }));
    const std::string escaped = "bytes \\xff\\xfe esc \\x1b[31m cr \\x0d nul \\x00 end";
    REQUIRE(findLine(lines, escaped));
    const json* forged = findLine(lines, "2026-01-01T00:00:00.000Z error [supervisor] pid=1 forged line");
    REQUIRE(forged);
    CHECK((*forged)["stream"] == "stdout");
    // The 40 KiB line is cut at 16 KiB and marked.
    bool found_long = false;
    for (const auto& l : lines) {
        if (!l["line"].get<std::string>().starts_with("long ")) continue;
        found_long = true;
        CHECK(l["line"].get<std::string>().size() == 16 * 1024);
        CHECK(l.value("truncated", false));
    }
    CHECK(found_long);

    const std::string log = s.log();
    CHECK(log.find(" stdout: " + escaped + "\n") != std::string::npos);
    CHECK(log.find('\x1b') == std::string::npos);
    CHECK(log.find('\xff') == std::string::npos);
    CHECK(log.find(std::string(1, '\0')) == std::string::npos);
    // The imitation appears only after the tag, never at the start of a log line.
    CHECK(log.find("\n2026-01-01T00:00:00.000Z error [supervisor]") == std::string::npos);
    CHECK(log.find(" stdout: 2026-01-01T00:00:00.000Z error [supervisor] pid=1 forged line\n") != std::string::npos);
}

TEST_CASE("a last line without newline is kept when the worker exits") {
    TempDir apps;
    makeApp(apps.root() / "logapp", "logapp");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    s.client().Get("/logapp/exit");  // the worker exits mid-request (502)
    CHECK(waitFor([&] { return findLine(logs(s, "logapp"), "last words without newline") != nullptr; }));
}

TEST_CASE("follow=1 streams lines printed after the subscription as server-sent events; shutdown ends it") {
    TempDir apps;
    makeApp(apps.root() / "logapp", "logapp");
    auto env = baseEnv(apps.root());
    env["RUNTIME_SHUTDOWN_TIMEOUT_MS"] = "60000";  // a follower that held the drain would show
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    REQUIRE(get(s, "/logapp/print?tag=before") == "printed");
    REQUIRE(waitFor([&] { return findLine(logs(s, "logapp"), "err before") != nullptr; }));

    int fd = connectLoopback(s.port(), std::chrono::milliseconds(500));
    REQUIRE(fd >= 0);
    const std::string request = "GET /_/api/apps/logapp/logs?follow=1&tail=0 HTTP/1.1\r\nHost: t\r\n\r\n";
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
    std::string stream;
    REQUIRE(readUntil(fd, stream, "\r\n\r\n", std::chrono::seconds(10)));
    CHECK(stream.starts_with("HTTP/1.1 200"));
    CHECK(stream.find("content-type: text/event-stream") != std::string::npos);

    REQUIRE(get(s, "/logapp/print?tag=live") == "printed");
    REQUIRE(readUntil(fd, stream, "\"err live\"", std::chrono::seconds(10)));
    CHECK(stream.find("out before") == std::string::npos);  // tail=0: only what came after
    const auto at = stream.find("data: {");
    REQUIRE(at != std::string::npos);
    const auto end = stream.find('\n', at);
    auto event = json::parse(stream.substr(at + 6, end - at - 6));
    CHECK(event["line"] == "out live 0");
    CHECK(event["stream"] == "stdout");
    CHECK(event["app"] == "logapp");

    // SIGTERM with the follower still connected: the stream ends and the supervisor exits well
    // before RUNTIME_SHUTDOWN_TIMEOUT_MS.
    const auto t0 = std::chrono::steady_clock::now();
    auto status = s.signalAndWait(SIGTERM, std::chrono::seconds(40));
    REQUIRE(status);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(40));
    CHECK(WIFEXITED(*status));
    std::string rest;
    readUntil(fd, rest, "0\r\n\r\n", std::chrono::seconds(2));
    CHECK(rest.find("0\r\n\r\n") != std::string::npos);  // the chunked stream was ended
    ::close(fd);
}

TEST_CASE("a flooding app neither stops the supervisor from serving nor grows its ring past the bound") {
    TempDir apps;
    makeApp(apps.root() / "flood", "flood");
    makeApp(apps.root() / "calm", "calm");
    auto env = baseEnv(apps.root());
    env["RUNTIME_APP_LOG_LINES"] = "200";
    env["RUNTIME_LOG_LEVEL"] = "warn";  // the flood's stdout lines stay out of the test's log file
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    REQUIRE(get(s, "/calm/pid") != "(failed)");

    std::atomic<bool> flooded{false};
    std::thread flood([&] {
        auto c = s.client();
        c.set_read_timeout(120);
        auto r = c.Get("/flood/flood?mb=32");
        flooded = r && r->status == 200;
    });
    // While 32 MiB of lines pour in, the other app and the admin API keep answering.
    int answered = 0;
    for (int i = 0; i < 40; ++i) {
        if (get(s, "/calm/pid") != "(failed)") ++answered;
        auto r = s.client().Get("/_/api/health");
        if (r && r->status == 200) ++answered;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    flood.join();
    CHECK(answered == 80);
    CHECK(flooded);
    std::vector<json> lines;
    REQUIRE(waitFor([&] {
        lines = logs(s, "flood", "tail=100000");
        return !lines.empty() && lines.back()["line"].get<std::string>().starts_with("flood ");
    }));
    CHECK(lines.size() <= 200);
}

TEST_CASE("a command app's own stdout and stderr are captured with its stream") {
    TempDir apps;
    const auto dir = apps.root() / "pylog";
    writeFile(dir / "manifest.yaml",
              "name: pylog\nversion: 2.0.0\nttl: 5m\ncommand: [\"python3\", \"-u\", \"app.py\"]\n");
    writeFile(dir / "app.py", R"(import os, socket, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
print("py stdout at start", flush=True)
sys.stderr.write("py stderr at start\n"); sys.stderr.flush()
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        print("py request " + self.path, flush=True)
        self.send_response(200); self.send_header("content-length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
    def address_string(self): return "x"
class S(HTTPServer):
    address_family = socket.AF_UNIX
    def server_bind(self):
        self.socket.bind(self.server_address)
S(os.environ["BUNTIME_SOCKET"], H).serve_forever()
)");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto c = s.client();
    auto r = c.Get("/pylog/hello");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    std::vector<json> lines;
    REQUIRE(waitFor([&] {
        lines = logs(s, "pylog");
        return findLine(lines, "py request /hello") != nullptr;
    }));
    const json* out = findLine(lines, "py stdout at start");
    const json* err = findLine(lines, "py stderr at start");
    REQUIRE(out);
    REQUIRE(err);
    CHECK((*out)["stream"] == "stdout");
    CHECK((*err)["stream"] == "stderr");
    CHECK((*out)["version"] == "2.0.0");
    CHECK((*out)["pid"].get<long>() > 0);
}
