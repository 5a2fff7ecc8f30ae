// SPDX-License-Identifier: MIT
// Templates (zygotes) through the real supervisor: .so workers are forked from one template
// per app version, with the limits and cgroup of any worker; `spawn: exec` opts out; a
// dead template is restarted while requests use exec; a template whose app starts threads
// is refused with a warning; overwriting a live .so under load fails no request.
#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <set>
#include <sstream>
#include <thread>

#include "supervisor_process.h"
#include "temp_dir.h"

using namespace buntime::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void writeApp(const fs::path& root, const std::string& name, const std::string& extra,
              const char* so = FIXTURE_ZYGOTE_SO) {
    fs::create_directories(root / name);
    fs::copy_file(so, root / name / "app.so", fs::copy_options::overwrite_existing);
    // Deployed a while ago: a template waits for a .so to settle (kZygoteSoSettle) before loading it.
    fs::last_write_time(root / name / "app.so", fs::file_time_type::clock::now() - 1h);
    writeFile(root / name / "manifest.yaml",
              "name: " + name + "\nversion: 1.0.0\nentrypoint: app.so\nthreads: 1\n" + extra);
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Pids of the supervisor's children whose title starts with `title`.
std::vector<int> childrenTitled(pid_t parent, const std::string& title) {
    std::vector<int> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
        const auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto stat = slurp(e.path() / "stat");
        const auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        std::string state;
        int ppid = 0;
        rest >> state >> ppid;
        if (ppid == parent && slurp(e.path() / "cmdline").starts_with(title)) out.push_back(std::stoi(name));
    }
    return out;
}

// Waits until the app's template is running; its pid, or 0.
int waitTemplate(SupervisorProcess& s, const std::string& app, std::chrono::milliseconds limit = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto c = s.client();
    std::string path = app.substr(0, app.find('@'));
    path.insert(path.begin(), '/');
    path.push_back('/');
    while (std::chrono::steady_clock::now() < deadline) {
        c.Get(path);  // a spawn starts the template when there is none
        auto pids = childrenTitled(s.pid(), "buntime: template " + app);
        if (!pids.empty() &&
            s.log().find("template " + app + " pid=" + std::to_string(pids[0]) + " ready") != std::string::npos)
            return pids[0];
        std::this_thread::sleep_for(50ms);
    }
    return 0;
}

std::vector<std::string> words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("ephemeral and pooled .so workers are forked from the app's template, with a worker's limits") {
    TempDir dir;
    writeApp(dir.root(), "eph", "ttl: 0\n");
    writeApp(dir.root(), "pooled", "ttl: 5m\nmaxRequests: 1\n");
    writeApp(dir.root(), "pooledx", "ttl: 5m\nmaxRequests: 1\nspawn: exec\n");
    SupervisorProcess s({{"RUNTIME_WORKER_DIRS", dir.path()}, {"RUNTIME_LOG_LEVEL", "debug"}});
    REQUIRE(s.waitReady());
    const int tpl = waitTemplate(s, "eph@1.0.0");
    REQUIRE_MESSAGE(tpl > 0, s.log());

    auto c = s.client();
    std::set<std::string> ids, rands;
    for (int i = 0; i < 6; ++i) {
        auto r = c.Get("/eph/");
        REQUIRE(r);
        REQUIRE(r->status == 200);
        auto w = words(r->body);
        REQUIRE(w.size() == 4);
        CHECK(w[2] == std::to_string(s.pid()));  // the supervisor's child, not the template's
        ids.insert(w[0]);
        rands.insert(w[1]);
    }
    CHECK(ids.size() == 6);
    CHECK(rands.size() == 6);  // rand() is reseeded in each child
    CHECK(count(s.log(), "eph@1.0.0 pid=") > 0);
    CHECK(count(s.log(), "(fork)") >= 6);
    CHECK(childrenTitled(s.pid(), "buntime: template eph@1.0.0") == std::vector<int>{tpl});  // one per app version

    // A pooled worker spawned once the template is ready is forked too, with the limits and
    // cgroup of an exec'd worker of the same settings (maxRequests: 1: a new worker each time).
    REQUIRE(waitTemplate(s, "pooled@1.0.0") > 0);
    auto forked = c.Get("/pooled/limits");
    REQUIRE(forked);
    REQUIRE(forked->status == 200);
    auto execd = c.Get("/pooledx/limits");
    REQUIRE(execd);
    REQUIRE(execd->status == 200);
    const auto fpid = forked->body.substr(0, forked->body.find('\n'));
    const auto epid = execd->body.substr(0, execd->body.find('\n'));
    CHECK(forked->body.substr(fpid.size()) == execd->body.substr(epid.size()));
    CHECK(childrenTitled(s.pid(), "buntime: template pooledx").empty());  // spawn: exec
    const auto log = s.log();
    const auto line = [&](const std::string& start) {
        const auto at = log.find(start);
        return at == std::string::npos ? std::string() : log.substr(at, log.find('\n', at) - at);
    };
    CHECK(line("worker pooled@1.0.0 pid=" + fpid + " ready in").ends_with("(fork)"));
    CHECK(line("worker pooledx@1.0.0 pid=" + epid + " ready in").ends_with("(exec)"));
}

namespace {

// Waits until the app's template has `n` parked children; their pids.
std::vector<int> waitParked(SupervisorProcess& s, const std::string& app, std::size_t n) {
    std::vector<int> pids;
    for (int i = 0; i < 200 && pids.size() != n; ++i) {
        std::this_thread::sleep_for(25ms);
        pids = childrenTitled(s.pid(), "buntime: parked " + app);
    }
    return pids;
}

bool exists(int pid) { return fs::exists("/proc/" + std::to_string(pid)); }

}  // namespace

TEST_CASE("an ephemeral app's template parks children ahead of demand; requests take them; they die with it") {
    TempDir dir;
    writeApp(dir.root(), "eph", "ttl: 0\n");
    SupervisorProcess s(
        {{"RUNTIME_WORKER_DIRS", dir.path()}, {"RUNTIME_EPHEMERAL_CONCURRENCY", "2"}, {"RUNTIME_LOG_LEVEL", "debug"}});
    REQUIRE(s.waitReady());
    REQUIRE(waitTemplate(s, "eph@1.0.0") > 0);
    auto c = s.client();
    REQUIRE(c.Get("/eph/"));                      // the first fork asks for parked children
    auto parked = waitParked(s, "eph@1.0.0", 2);  // min(RUNTIME_EPHEMERAL_CONCURRENCY, 2)
    REQUIRE(parked.size() == 2);

    // The next two requests are served by exactly those children (no fork on their path),
    // each reseeded and with its own WORKER_ID.
    std::set<int> served;
    std::set<std::string> ids;
    for (int i = 0; i < 2; ++i) {
        auto r = c.Get("/eph/");
        REQUIRE(r);
        REQUIRE(r->status == 200);
        const auto w = words(r->body);
        REQUIRE(w.size() == 4);
        CHECK(w[2] == std::to_string(s.pid()));
        served.insert(std::stoi(w[3]));
        ids.insert(w[0]);
    }
    CHECK(served == std::set<int>(parked.begin(), parked.end()));
    CHECK(ids.size() == 2);
    // Served and gone: reaped by the supervisor, not left as zombies.
    for (int pid : parked)
        for (int i = 0; i < 200 && exists(pid); ++i) std::this_thread::sleep_for(10ms);
    for (int pid : parked) CHECK_FALSE(exists(pid));

    // New ones were parked; a dying template takes them along, and they are reaped.
    const int tpl = waitTemplate(s, "eph@1.0.0");
    parked = waitParked(s, "eph@1.0.0", 2);
    REQUIRE(parked.size() == 2);
    REQUIRE(::kill(tpl, SIGKILL) == 0);
    for (int pid : parked)
        for (int i = 0; i < 300 && exists(pid); ++i) std::this_thread::sleep_for(10ms);
    for (int pid : parked) CHECK_MESSAGE(!exists(pid), pid, slurp("/proc/" + std::to_string(pid) + "/status"), s.log());
    auto r = c.Get("/eph/");  // exec meanwhile, then a new template
    REQUIRE(r);
    CHECK(r->status == 200);
}

TEST_CASE("a pooled app's template parks nothing") {
    TempDir dir;
    writeApp(dir.root(), "pooled", "ttl: 5m\nmaxRequests: 1\n");
    SupervisorProcess s({{"RUNTIME_WORKER_DIRS", dir.path()}});
    REQUIRE(s.waitReady());
    REQUIRE(waitTemplate(s, "pooled@1.0.0") > 0);
    auto c = s.client();
    for (int i = 0; i < 3; ++i) REQUIRE(c.Get("/pooled/"));
    std::this_thread::sleep_for(300ms);
    CHECK(childrenTitled(s.pid(), "buntime: parked pooled@1.0.0").empty());
}

TEST_CASE("a dead template is restarted, and requests meanwhile use exec") {
    TempDir dir;
    writeApp(dir.root(), "eph", "ttl: 0\n");
    SupervisorProcess s({{"RUNTIME_WORKER_DIRS", dir.path()}, {"RUNTIME_LOG_LEVEL", "debug"}});
    REQUIRE(s.waitReady());
    const int first = waitTemplate(s, "eph@1.0.0");
    REQUIRE(first > 0);
    REQUIRE(::kill(first, SIGKILL) == 0);
    auto c = s.client();
    for (int i = 0; i < 20; ++i) {
        auto r = c.Get("/eph/");
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    const int second = waitTemplate(s, "eph@1.0.0");
    CHECK(second > 0);
    CHECK(second != first);
    // Found dead by its exit watcher or by the next Fork (its send or its reply failing),
    // whichever came first.
    const auto log = s.log(), name = "template eph@1.0.0 pid=" + std::to_string(first);
    CHECK((log.find(name + " killed by SIGKILL") != std::string::npos ||
           log.find(name + " retired: Fork") != std::string::npos ||
           log.find(name + " retired: the template closed its channel") != std::string::npos));
}

TEST_CASE("an app that starts threads in init is exec'd, with a warning naming it") {
    TempDir dir;
    writeApp(dir.root(), "threaded", "ttl: 0\nenv:\n  FIXTURE_THREAD: \"1\"\n");
    SupervisorProcess s({{"RUNTIME_WORKER_DIRS", dir.path()}});
    REQUIRE(s.waitReady());
    auto c = s.client();
    for (int i = 0; i < 10; ++i) {
        auto r = c.Get("/threaded/");
        REQUIRE(r);
        CHECK(r->status == 200);
        std::this_thread::sleep_for(20ms);
    }
    const auto log = s.log();
    CHECK(log.find("app threaded@1.0.0 cannot be forked from a template") != std::string::npos);
    CHECK(log.find("threads") != std::string::npos);
    CHECK(count(log, "cannot be forked from a template") == 1);  // refused once, not per request
}

TEST_CASE("overwriting a live .so under load fails no request") {
    TempDir dir;
    writeApp(dir.root(), "pooled", "ttl: 5m\nconcurrency: 200\n");
    writeApp(dir.root(), "eph", "ttl: 0\n");
    SupervisorProcess s({{"RUNTIME_WORKER_DIRS", dir.path()}, {"RUNTIME_EPHEMERAL_CONCURRENCY", "4"}});
    REQUIRE(s.waitReady());
    REQUIRE(waitTemplate(s, "pooled@1.0.0") > 0);
    REQUIRE(waitTemplate(s, "eph@1.0.0") > 0);
    const std::string a = slurp(FIXTURE_ZYGOTE_SO), b = slurp(FIXTURE_APP_SO);

    std::atomic<int> ok{0}, bad{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int i = 0; i < 20; ++i) {
        clients.emplace_back([&, i] {
            auto c = s.client();
            for (int n = 0; n < 10; ++n) {
                auto r = c.Get(i % 4 == 0 ? "/eph/" : "/pooled/");
                (r && r->status >= 200 && r->status < 300 ? ok : bad)++;
            }
        });
    }
    // What `cp new.so app.so` does, a few times while the requests are in flight.
    std::thread writer([&] {
        for (int n = 0; !stop && n < 50; ++n) {
            for (const char* app : {"pooled", "eph"}) {
                std::ofstream out(dir.root() / app / "app.so", std::ios::binary | std::ios::trunc);
                out << (n % 2 ? a : b);
            }
            std::this_thread::sleep_for(5ms);
        }
    });
    for (auto& t : clients) t.join();
    stop = true;
    writer.join();
    CHECK(ok == 200);
    CHECK(bad == 0);
    CHECK(s.log().find("SIGSEGV") == std::string::npos);
    CHECK(s.log().find("SIGBUS") == std::string::npos);
}

TEST_CASE("a replaced .so reaches forked workers through a new template once the file settles") {
    TempDir dir;
    writeApp(dir.root(), "eph", "ttl: 0\n");
    SupervisorProcess s({{"RUNTIME_WORKER_DIRS", dir.path()}});
    REQUIRE(s.waitReady());
    const int first = waitTemplate(s, "eph@1.0.0");
    REQUIRE(first > 0);
    auto c = s.client();
    auto before = c.Get("/eph/pid");
    REQUIRE(before);
    CHECK(words(before->body).size() == 4);  // fixture_zygote answers every path alike
    {
        std::ofstream out(dir.root() / "eph" / "app.so", std::ios::binary | std::ios::trunc);
        out << slurp(FIXTURE_APP_SO);  // answers /pid with its pid alone
    }
    std::size_t answer_words = 4;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (answer_words != 1 && std::chrono::steady_clock::now() < deadline) {
        auto r = c.Get("/eph/pid");
        REQUIRE(r);
        REQUIRE(r->status == 200);
        answer_words = words(r->body).size();
        std::this_thread::sleep_for(100ms);
    }
    CHECK(answer_words == 1);
    CHECK(s.log().find("template eph@1.0.0 pid=" + std::to_string(first) + " retired: its .so changed") !=
          std::string::npos);
}
