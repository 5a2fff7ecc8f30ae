// SPDX-License-Identifier: MIT
// Issue 11, items 9-13, against the real binary: memory caps and recycling, the cgroup log
// line, worker isolation (user, no_new_privs, a non-dumpable supervisor), the environment
// filter, and who may read the admin API.
#include <doctest/doctest.h>

#include <grp.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "supervisor_process.h"

using namespace buntime::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

// TempDir is private (0700); workers running as another user must reach the apps.
void openToOthers(const fs::path& root) {
    for (auto p = root; !p.empty() && p != p.root_path(); p = p.parent_path()) {
        if (p == fs::temp_directory_path()) break;
        ::chmod(p.c_str(), 0755);
    }
    for (auto& e : fs::recursive_directory_iterator(root)) ::chmod(e.path().c_str(), e.is_directory() ? 0755 : 0644);
}

// The supervisor as another user (root only): the same as SupervisorProcess, with the
// credentials dropped in the child before exec.
class SupervisorAs {
public:
    SupervisorAs(uid_t uid, std::map<std::string, std::string> env) : port_(freePort()) {
        env["PORT"] = std::to_string(port_);
        env["RUNTIME_BIND"] = "127.0.0.1";
        env["PATH"] = "/usr/bin:/bin";
        addSanitizeEnv(env);
        log_path_ = "/tmp/buntime-hardening-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + ".log";
        std::vector<std::string> envs;
        for (auto& [k, v] : env) envs.push_back(k + "=" + v);
        pid_ = ::fork();
        if (pid_ == 0) {
            int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 2);
            ::dup2(fd, 1);
            if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0)
                ::_exit(126);
            std::vector<char*> envp;
            for (auto& s : envs) envp.push_back(s.data());
            envp.push_back(nullptr);
            std::string bin = BUNTIME_BINARY;
            char* argv[] = {bin.data(), nullptr};
            ::execve(bin.c_str(), argv, envp.data());
            ::_exit(127);
        }
    }
    ~SupervisorAs() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        ::unlink(log_path_.c_str());
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port_);
        c.set_connection_timeout(5);
        c.set_read_timeout(30);
        return c;
    }
    bool waitReady() {
        for (int i = 0; i < 750; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return false;
            auto c = client();
            c.set_connection_timeout(0, 200000);
            if (auto r = c.Get("/_/api/health/live"); r && r->status == 200) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
    std::string log() const { return readFile(log_path_); }

private:
    std::uint16_t port_;
    std::string log_path_;
    pid_t pid_ = -1;
};

std::map<std::string, std::string> lines(const std::string& body) {
    std::map<std::string, std::string> out;
    std::istringstream in(body);
    for (std::string line; std::getline(in, line);) {
        auto eq = line.find('=');
        if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
}

// A non-loopback IPv4 address of this machine, if it has one.
std::optional<std::string> outsideAddress() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return std::nullopt;
    std::optional<std::string> found;
    for (auto* a = list; a && !found; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || (a->ifa_flags & IFF_LOOPBACK)) continue;
        char host[INET_ADDRSTRLEN];
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, host, sizeof host);
        found = host;
    }
    ::freeifaddrs(list);
    return found;
}

}  // namespace

TEST_CASE("memory cap by default: a 2 GB allocation fails that request only; the log says which mechanism") {
    if (sanitizeRun()) {
        MESSAGE(kCapOffUnderSanitizers);
        return;
    }
    TempDir apps;
    installApp(apps.root() / "hog", HOSTILE_APP_SO, "ttl: 1m\n");
    installApp(apps.root() / "small", HOSTILE_APP_SO, "ttl: 1m\nmaxMemory: 128mb\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto c = s.client();

    auto before = c.Get("/hog/pid");
    REQUIRE(before);
    REQUIRE(before->status == 200);
    auto hog = c.Get("/hog/alloc?mb=2048");
    REQUIRE(hog);
    // RLIMIT_DATA: malloc fails in the worker (500); cgroup: the OOM killer ends it (502).
    CHECK_MESSAGE((hog->status == 500 || hog->status == 502), hog->status << " " << hog->body);
    auto after = c.Get("/hog/alloc?mb=16");
    REQUIRE(after);
    CHECK(after->status == 200);
    CHECK(c.Get("/_/api/health")->status == 200);

    // maxMemory in the manifest lowers the cap for that app only.
    auto small = c.Get("/small/alloc?mb=200");
    REQUIRE(small);
    CHECK(small->status != 200);
    CHECK(c.Get("/small/alloc?mb=8")->status == 200);
    CHECK(c.Get("/hog/alloc?mb=100")->status == 200);

    const auto log = s.log();
    const bool cgroup = log.find("worker limits: cgroup v2 under") != std::string::npos;
    const bool fallback = log.find("cgroup v2 unavailable: ") != std::string::npos &&
                          log.find("apps get no CPU isolation (cpuWeight ignored)") != std::string::npos;
    CHECK_MESSAGE((cgroup || fallback), log);
    CHECK_MESSAGE(cgroup != fallback, log);
}

TEST_CASE("a worker whose RSS passes 80% of its cap is recycled between requests") {
    if (sanitizeRun()) {
        MESSAGE(kCapOffUnderSanitizers);
        return;
    }
    TempDir apps;
    installApp(apps.root() / "leaky", HOSTILE_APP_SO, "ttl: 1m\nthreads: 1\nmaxMemory: 256mb\n");
    SupervisorProcess s(baseEnv(apps.root()));
    REQUIRE(s.waitReady());
    auto c = s.client();
    auto first = c.Get("/leaky/pid");
    REQUIRE(first);
    const auto pid = first->body;
    bool recycled = false;
    int leaks = 0;
    for (; leaks < 40 && !recycled; ++leaks) {
        std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past the 100 ms check interval
        auto r = c.Get("/leaky/leak?mb=8");
        REQUIRE(r);
        REQUIRE_MESSAGE(r->status == 200, "leak " << leaks << ": " << r->status << " " << r->body);
        auto now = c.Get("/leaky/pid");
        REQUIRE(now);
        recycled = now->body != pid;
    }
    CHECK_MESSAGE(recycled, "no recycle after " << leaks << " leaks of 8 MiB");
    CHECK(leaks >= 20);  // not before ~80% of 256 MiB
    CHECK(s.log().find("past its recycle threshold") != std::string::npos);
}

TEST_CASE("workers run as RUNTIME_WORKER_USER with no_new_privs and cannot read the supervisor") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: the supervisor must be root to switch users");
        return;
    }
    TempDir apps;
    installApp(apps.root() / "peek", HOSTILE_APP_SO, "ttl: 1m\n");
    openToOthers(apps.root());
    auto env = baseEnv(apps.root());
    env["RUNTIME_WORKER_USER"] = "nobody";
    env["RUNTIME_ADMIN_TOKEN"] = "do-not-leak";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    auto r = s.client().Get("/peek/peek");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 200, r->body << s.log());
    auto got = lines(r->body);
    CHECK(got["uid"] == "65534");
    CHECK(got["nnp"] == "1");
    CHECK_MESSAGE(got["environ"] != "ok", r->body);
    CHECK_MESSAGE(got["mem"] != "ok", r->body);
    CHECK(s.log().find("workers run as nobody (uid 65534") != std::string::npos);
}

TEST_CASE("a supervisor running as an ordinary user is non-dumpable: its same-uid worker reads nothing of it") {
    // The case that matters without root: worker and supervisor share a uid, so only
    // PR_SET_DUMPABLE 0 keeps /proc/<supervisor>/environ and /mem closed. As root, the test
    // runs the supervisor as nobody; otherwise as the current user.
    TempDir apps;
    installApp(apps.root() / "peek", HOSTILE_APP_SO, "ttl: 1m\n");
    openToOthers(apps.root());
    auto env = baseEnv(apps.root());
    env["RUNTIME_ADMIN_TOKEN"] = "do-not-leak";
    const uid_t uid = ::geteuid() == 0 ? kNobody : ::geteuid();
    SupervisorAs s(uid, env);
    REQUIRE_MESSAGE(s.waitReady(), s.log());
    auto r = s.client().Get("/peek/peek");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 200, r->body << s.log());
    auto got = lines(r->body);
    CHECK(got["uid"] == std::to_string(uid));
    CHECK_MESSAGE(got["environ"] != "ok", r->body);
    CHECK_MESSAGE(got["mem"] != "ok", r->body);
    CHECK(r->body.find("do-not-leak") == std::string::npos);
}

TEST_CASE("RUNTIME_WORKER_USER naming a missing user: the supervisor refuses to start and says why") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: the user is looked up only when the supervisor is root");
        return;
    }
    TempDir apps;
    auto env = baseEnv(apps.root());
    env["RUNTIME_WORKER_USER"] = "no-such-user-buntime";
    SupervisorProcess s(env);
    CHECK_FALSE(s.waitReady(std::chrono::seconds(5)));
    auto status = s.waitExit(std::chrono::seconds(5));
    REQUIRE(status);
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 1);
    CHECK(s.log().find("RUNTIME_WORKER_USER=no-such-user-buntime: no such user") != std::string::npos);
}

TEST_CASE("the worker environment: wider secret patterns by default, an allow-list on request") {
    TempDir apps;
    installApp(apps.root() / "fx", FIXTURE_APP_SO, "ttl: 1m\n");
    auto env = baseEnv(apps.root());
    env["PGPASSWORD"] = "pg-secret";
    env["CACHE_ADDR"] = "redis://:hunter2@cache:6379";
    env["AWS_REGION"] = "eu-west-1";
    env["HOME"] = "/root";
    {
        SupervisorProcess s(env);
        REQUIRE(s.waitReady());
        auto c = s.client();
        CHECK(c.Get("/fx/env?name=PGPASSWORD")->body == "(unset)");
        CHECK(c.Get("/fx/env?name=CACHE_ADDR")->body == "(unset)");
        CHECK(c.Get("/fx/env?name=AWS_REGION")->body == "eu-west-1");
        CHECK(c.Get("/fx/env?name=HOME")->body == "/root");
    }
    env["RUNTIME_WORKER_ENV"] = "allow:PATH,AWS_*";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    auto c = s.client();
    CHECK(c.Get("/fx/env?name=HOME")->body == "(unset)");
    CHECK(c.Get("/fx/env?name=AWS_REGION")->body == "eu-west-1");
    CHECK(c.Get("/fx/env?name=PGPASSWORD")->body == "(unset)");
    CHECK(s.log().find("worker environment: allow: PATH, AWS_*") != std::string::npos);
}

TEST_CASE("admin API: no env values, 403 from a non-loopback peer without a token, no paths in error bodies") {
    TempDir apps;
    installApp(apps.root() / "fx", FIXTURE_APP_SO, "ttl: 1m\nenv:\n  API_PASSWORD: manifest-secret\n");
    installApp(apps.root() / "broken", FIXTURE_APP_SO, "ttl: soon\n");
    auto env = baseEnv(apps.root());
    env["RUNTIME_BIND"] = "0.0.0.0";
    SupervisorProcess s(env);
    REQUIRE(s.waitReady());
    auto c = s.client();
    auto apps_reply = c.Get("/_/api/apps");
    REQUIRE(apps_reply);
    CHECK(apps_reply->status == 200);
    CHECK(apps_reply->body.find("manifest-secret") == std::string::npos);
    CHECK(apps_reply->body.find("API_PASSWORD") != std::string::npos);

    auto broken = c.Get("/broken/");
    REQUIRE(broken);
    CHECK(broken->status == 500);
    CHECK(broken->body.find("ttl") != std::string::npos);
    CHECK_MESSAGE(broken->body.find(apps.path()) == std::string::npos, broken->body);
    CHECK(s.log().find(apps.path() + "/broken/manifest.yaml") != std::string::npos);  // the detail is logged

    if (auto outside = outsideAddress()) {
        httplib::Client remote(*outside, s.port());
        remote.set_connection_timeout(5);
        auto r = remote.Get("/_/api/apps");
        REQUIRE(r);
        CHECK(r->status == 403);
        CHECK(r->body.find("answers only on loopback") != std::string::npos);
        CHECK(remote.Get("/_/api/health/ready")->status == 200);  // probes stay open
        CHECK(remote.Get("/fx/")->status == 200);                 // apps are not affected
    } else {
        MESSAGE("no non-loopback address here: the remote case is covered by tests/admin/access");
    }
}
