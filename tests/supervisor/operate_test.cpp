// SPDX-License-Identifier: MIT
// Issue 13 items 6, 7 and 9 through the real binary: `buntime check` and its exit codes,
// the refusal of a variable that does not parse, the start warnings, virtual hosts, and
// the access log's client address behind (and not behind) a trusted proxy.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "supervisor_process.h"

using namespace buntime::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

void makeApp(const fs::path& dir, const std::string& manifest) { installApp(dir, FIXTURE_APP_SO, manifest); }

struct Run {
    int exit_code = -1;  // -1: killed after the time limit (it did not exit by itself)
    std::string output;  // stdout and stderr
};

// Runs `buntime args...` with exactly `env` (plus PATH); kills it after `limit`.
Run runBuntime(std::vector<std::string> args, std::map<std::string, std::string> env,
               std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    TempDir out_dir;
    const std::string out_path = (out_dir.root() / "out").string();
    std::vector<std::string> envs{"PATH=/usr/bin:/bin"};
    for (auto& [k, v] : env) envs.push_back(k + "=" + v);
    const pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::string bin = BUNTIME_BINARY;
        std::vector<char*> argv{bin.data()};
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<char*> envp;
        for (auto& s : envs) envp.push_back(s.data());
        envp.push_back(nullptr);
        ::execve(bin.c_str(), argv.data(), envp.data());
        ::_exit(127);
    }
    Run run;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            run.output = readFile(out_path);
            return run;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.output = readFile(out_path);
    return run;
}

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    return n;
}

std::string get(std::uint16_t port, const std::string& target, const std::string& host,
                const std::string& extra_headers = {}) {
    return rawExchange(
        port, "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra_headers + "Connection: close\r\n\r\n");
}

std::string bodyOf(const std::string& raw) {
    auto p = raw.find("\r\n\r\n");
    return p == std::string::npos ? std::string() : raw.substr(p + 4);
}

std::vector<json> accessLines(const fs::path& file) {
    std::vector<json> out;
    std::istringstream lines(readFile(file));
    for (std::string line; std::getline(lines, line);)
        if (!line.empty()) out.push_back(json::parse(line));
    return out;
}

}  // namespace

TEST_CASE("buntime check: findings and exit codes 1, 0 and 2 (--strict); --check is the same") {
    TempDir t;
    const fs::path apps = t.root() / "apps";
    makeApp(apps / "typo@1.0.0", "timout: 5s\n");
    makeApp(apps / "bad@1.0.0", "ttl: soon\n");
    const std::string missing = (t.root() / "nope").string();
    auto r = runBuntime({"check"}, {{"RUNTIME_WORKER_DIRS", apps.string() + ":" + missing}});
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("error: " + missing + ": RUNTIME_WORKER_DIRS: worker directory does not exist\n") !=
          std::string::npos);
    CHECK(r.output.find("error: " + (apps / "bad@1.0.0/manifest.yaml").string() + ":1: ttl: ") != std::string::npos);
    CHECK(r.output.find("warning: " + (apps / "typo@1.0.0/manifest.yaml").string() +
                        ":1: timout: unknown key (ignored); did you mean 'timeout'?\n") != std::string::npos);
    CHECK(r.output.find("buntime check: 2 errors, 1 warning (2 apps, 2 versions in 2 worker directories): failed\n") !=
          std::string::npos);

    fs::remove_all(apps / "bad@1.0.0");
    const std::map<std::string, std::string> env{{"RUNTIME_WORKER_DIRS", apps.string()}};
    auto warn = runBuntime({"check"}, env);
    CHECK(warn.exit_code == 0);
    CHECK(runBuntime({"check", "--strict"}, env).exit_code == 2);
    CHECK(runBuntime({"--check", "--strict"}, env).exit_code == 2);
    writeFile(apps / "typo@1.0.0/manifest.yaml", "timeout: 5s\n");
    auto clean = runBuntime({"--check", "--strict"}, env);
    CHECK(clean.exit_code == 0);
    CHECK(clean.output == "buntime check: 0 errors, 0 warnings (1 app, 1 version in 1 worker directory): ok\n");
    auto env_error = runBuntime({"check"}, {{"RUNTIME_WORKER_DIRS", apps.string()}, {"PORT", "abc"}});
    CHECK(env_error.exit_code == 1);
    CHECK(env_error.output.find("error: env: PORT: \"abc\" is invalid (expected an integer in [0, 65535])\n") !=
          std::string::npos);
    CHECK(runBuntime({"check", "--bogus"}, env).exit_code == 2);  // usage
}

TEST_CASE("PORT=abc (or any variable that does not parse) refuses to start: exit 2, one line naming it") {
    TempDir t;
    makeApp(t.root() / "apps/good", "ttl: 1m\n");
    auto r = runBuntime({}, {{"RUNTIME_WORKER_DIRS", (t.root() / "apps").string()}, {"PORT", "abc"}});
    CHECK(r.exit_code == 2);  // before the fix: it bound 8000 and served (killed here after the limit)
    CHECK(count(r.output, "\n") == 1);
    CHECK(r.output.find("PORT=\"abc\" is invalid (expected an integer in [0, 65535]); not starting") !=
          std::string::npos);
    auto ms = runBuntime(
        {},
        {{"RUNTIME_WORKER_DIRS", (t.root() / "apps").string()}, {"PORT", "0"}, {"RUNTIME_HEADER_TIMEOUT_MS", "10s"}});
    CHECK(ms.exit_code == 2);
    CHECK(ms.output.find("RUNTIME_HEADER_TIMEOUT_MS=\"10s\" is invalid") != std::string::npos);
}

TEST_CASE("start warnings: a missing worker directory, unknown keys once per manifest file, host collisions") {
    TempDir t;
    const fs::path apps = t.root() / "apps";
    makeApp(apps / "typo", "ttl: 1m\ntimout: 5s\nhosts: [shared.example.com]\n");
    makeApp(apps / "zeta", "ttl: 1m\nhosts: [shared.example.com]\n");
    const std::string missing = (t.root() / "nope").string();
    SupervisorProcess s({{"RUNTIME_WORKER_DIRS", apps.string() + ":" + missing},
                         {"RUNTIME_ACCESS_LOG", "off"},
                         {"RUNTIME_WORKER_CONFIG_CACHE_TTL_MS", "0"}});  // every request re-reads the manifest
    REQUIRE(s.waitReady());
    for (int i = 0; i < 3; ++i) CHECK(bodyOf(get(s.port(), "/typo/", "x")) == "fixture ok");
    const std::string log = s.log();
    CHECK(count(log, "worker directory " + missing + " (RUNTIME_WORKER_DIRS) does not exist") == 1);
    CHECK(count(log, "unknown key 'timout' (ignored); did you mean 'timeout'?") == 1);
    CHECK(log.find((apps / "typo/manifest.yaml").string()) != std::string::npos);
    CHECK(count(log, "host 'shared.example.com' is claimed by apps typo and zeta; typo serves it") == 1);
    CHECK(bodyOf(get(s.port(), "/env?name=APP_DIR", "shared.example.com")).ends_with("/typo"));
}

TEST_CASE("virtual hosts: Host picks the app at / (x-base /, latest version); other hosts route by path") {
    TempDir t;
    const fs::path apps = t.root() / "apps";
    makeApp(apps / "tools@1.0.0", "ttl: 1m\nhosts: [tools.example.com]\n");
    makeApp(apps / "tools@2.0.0", "ttl: 1m\nhosts: [tools.example.com, '*.apps.example.com']\n");
    makeApp(apps / "good", "ttl: 1m\n");
    const fs::path access = t.root() / "access.log";
    SupervisorProcess s({{"RUNTIME_WORKER_DIRS", apps.string()}, {"RUNTIME_ACCESS_LOG", access.string()}});
    REQUIRE(s.waitReady());

    auto headers = get(s.port(), "/headers", "Tools.Example.COM:8000");
    CHECK(statusOf(headers) == 200);
    CHECK(bodyOf(headers).starts_with("path=/headers\nbase=/\nx-base=/\n"));
    CHECK(bodyOf(get(s.port(), "/env?name=APP_DIR", "tools.example.com")).ends_with("/tools@2.0.0"));
    // The whole path goes to the vhost's app, even when its first segment names another app.
    CHECK(bodyOf(get(s.port(), "/good/headers", "a.b.apps.example.com")) == "fixture ok");
    CHECK(bodyOf(get(s.port(), "/", "x.apps.example.com")) == "fixture ok");
    // Hosts that match nothing: path routing as before.
    CHECK(bodyOf(get(s.port(), "/good/headers", "apps.example.com")).starts_with("path=/headers\nbase=/good\n"));
    CHECK(statusOf(get(s.port(), "/", "other.example.com")) == 404);
    CHECK(statusOf(get(s.port(), "/tools@1/x", "localhost")) == 200);
    // The admin namespace stays the supervisor's under a vhost; traversal is still refused.
    CHECK(statusOf(get(s.port(), "/_/api/health", "tools.example.com")) == 200);
    CHECK(statusOf(get(s.port(), "/a/%2e%2e/b", "tools.example.com")) == 400);
    REQUIRE(s.signalAndWait(SIGTERM));
    std::map<std::string, std::string> app_by_path;
    for (const auto& line : accessLines(access))
        app_by_path[line["path"]] = line["app"].is_null() ? "" : line["app"].get<std::string>();
    CHECK(app_by_path["/headers"] == "tools@2.0.0");
    CHECK(app_by_path["/good/headers"] == "good@0.0.0");  // the last request for it: path routing
}

TEST_CASE("access log: remote is the peer; X-Forwarded-For counts only from RUNTIME_TRUSTED_PROXIES") {
    TempDir t;
    const fs::path apps = t.root() / "apps";
    makeApp(apps / "good", "ttl: 1m\n");
    const std::string spoof = "X-Forwarded-For: 198.51.100.1, 203.0.113.9\r\n";
    for (bool trusted : {false, true}) {
        CAPTURE(trusted);
        const fs::path access = t.root() / (trusted ? "trusted.log" : "untrusted.log");
        std::map<std::string, std::string> env{{"RUNTIME_WORKER_DIRS", apps.string()},
                                               {"RUNTIME_ACCESS_LOG", access.string()}};
        env["RUNTIME_TRUSTED_PROXIES"] = trusted ? "10.0.0.0/8, 127.0.0.0/8, ::1" : "10.0.0.0/8";
        SupervisorProcess s(env);
        REQUIRE(s.waitReady());
        CHECK(statusOf(get(s.port(), "/good/", "x", spoof)) == 200);
        CHECK(statusOf(get(s.port(), "/good/plain", "x")) == 200);
        REQUIRE(s.signalAndWait(SIGTERM));
        std::map<std::string, std::string> remote_by_path;
        for (const auto& line : accessLines(access)) remote_by_path[line["path"]] = line["remote"];
        CHECK(remote_by_path["/good/"] == (trusted ? "203.0.113.9" : "127.0.0.1"));
        CHECK(remote_by_path["/good/plain"] == "127.0.0.1");
    }
}
