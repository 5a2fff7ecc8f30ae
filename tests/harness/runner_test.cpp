// SPDX-License-Identifier: MIT
// End-to-end runs of the harness: PERF_TARGET against a live server, and http/direct modes
// against the fake runtime (fixtures, IPC breakdown, pool metrics, gates, JSON, exit codes).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "buntime/harness/direct_load.h"
#include "buntime/harness/fixtures.h"
#include "buntime/harness/runner.h"
#include "test_server.h"

#include <buntime/supervisor/runtime.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace buntime::harness;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A scratch directory (also the working directory while alive) holding fake built apps.
struct Scratch {
    Scratch() {
        char tmpl[] = "/tmp/buntime-perf-test-XXXXXX";
        dir = mkdtemp(tmpl);
        previous = fs::current_path();
        fs::current_path(dir);
        apps = dir / "apps";
        for (const char* app : {"hello", "echo", "slow"}) {
            fs::create_directories(apps / app);
            std::ofstream(apps / app / "app.so") << "not really a shared object: " << app;
        }
    }
    ~Scratch() {
        fs::current_path(previous);
        fs::remove_all(dir);
    }
    fs::path dir, apps, previous;
};

PerfConfig quickConfig(const Scratch& s) {
    PerfConfig c;
    c.duration_ms = 300;
    c.warmup_ms = 100;
    c.concurrency = 4;
    c.pool_size = 10;
    c.client_timeout_ms = 2000;
    for (const auto& sc : allScenarios()) c.scenarios.push_back(sc.name);
    c.apps_dir = s.apps.string();
    return c;
}

json readJson(const fs::path& p) {
    std::ifstream in(p);
    return json::parse(in);
}

// A live fake runtime serving the fixture apps, as an operator's server for PERF_TARGET.
struct LiveTarget {
    explicit LiveTarget(const Scratch& s) {
        REQUIRE(generateFixtures((s.dir / "installed").string(), s.apps.string()).empty());
        auto o = buntime::supervisor::embeddedConfig();
        o.worker_dirs = {(s.dir / "installed").string()};
        runtime = std::make_unique<buntime::supervisor::Runtime>(o);
        REQUIRE(runtime->start());
        url = *parseTargetUrl("http://127.0.0.1:" + std::to_string(runtime->port()));
    }
    std::unique_ptr<buntime::supervisor::Runtime> runtime;
    TargetUrl url;
};

}  // namespace

TEST_CASE("fixtures: four apps with the seed's manifests and copied app.so") {
    Scratch s;
    REQUIRE(generateFixtures("fx", s.apps.string()).empty());
    for (const char* app : {"noop", "echo", "slow", "ephemeral"}) {
        CAPTURE(app);
        std::ifstream m(fs::path("fx") / app / "manifest.yaml");
        std::stringstream text;
        text << m.rdbuf();
        for (const char* key :
             {"entrypoint: app.so", "timeout: 5s", "idleTimeout: 60s", "maxBodySize: 10mb", "maxRequests: 1000000"})
            CHECK(text.str().find(key) != std::string::npos);
        CHECK(text.str().find(std::string(app) == "ephemeral" ? "ttl: 0\n" : "ttl: 5m\n") != std::string::npos);
        CHECK(fs::is_regular_file(fs::path("fx") / app / "app.so"));
    }
    std::ifstream so("fx/ephemeral/app.so");
    std::string content((std::istreambuf_iterator<char>(so)), {});
    CHECK(content.find("hello") != std::string::npos);  // ephemeral <- hello
    CHECK(writeFixturesOnly("fx2", s.apps.string(), std::cerr) == 0);
    CHECK(fs::exists("fx2/slow/manifest.yaml"));
    std::ostringstream err;
    CHECK(writeFixturesOnly("fx3", (s.dir / "nowhere").string(), err) == 1);
    CHECK(err.str().find("PERF_APPS_DIR") != std::string::npos);
}

TEST_CASE("PERF_TARGET mode: every scenario against a running server, pool from /_/api/metrics") {
    Scratch s;
    LiveTarget target(s);
    PerfConfig c = quickConfig(s);
    c.mode = Mode::Target;
    c.target = target.url;
    c.output_file = (s.dir / "report.json").string();
    std::ostringstream out, err;
    CHECK(runPerf(c, out, err) == 0);
    INFO(out.str() << err.str());
    CHECK(out.str().find("noop/manifest.yaml") != std::string::npos);  // operator instructions
    CHECK(out.str().find("ttl: 0") != std::string::npos);
    CHECK(out.str().find("Pool metrics") != std::string::npos);
    CHECK_FALSE(fs::exists(".perf-fixtures"));
    const json rep = readJson(c.output_file);
    CHECK(rep["config"]["mode"] == "target");
    CHECK(rep["config"]["target"] == target.url.text);
    REQUIRE(rep["results"].size() == 4);
    for (const auto& r : rep["results"]) {
        CAPTURE(r["scenario"]);
        CHECK(r["requests"].get<std::uint64_t>() > 0);
        CHECK(r["errors"] == 0);
        CHECK(r["statusCounts"]["200"] == r["requests"]);
        CHECK_FALSE(r.contains("ipc"));
    }
    CHECK(rep["results"][2]["latencyMs"]["p50"].get<double>() >= 50.0);  // slow-50ms waits 50 ms
    CHECK(rep["pool"]["activeWorkers"] == 3);
    CHECK(rep["pool"]["totalWorkersCreated"].get<int>() > 3);  // ephemeral creates per request
    CHECK(rep["passed"] == true);
}

TEST_CASE("PERF_TARGET mode: gate violations and server errors exit 1 with the violation lines") {
    Scratch s;
    LiveTarget target(s);
    std::ofstream(s.dir / "gate.json") << R"({"scenarios": {"warm-noop": {"minRps": 1e12, "maxP99Ms": 1000}}})";
    PerfConfig c = quickConfig(s);
    c.mode = Mode::Target;
    c.target = target.url;
    c.scenarios = {"warm-noop"};
    c.gate_file = (s.dir / "gate.json").string();
    std::ostringstream out, err;
    CHECK(runPerf(c, out, err) == 1);
    CHECK(out.str().find("warm-noop minRps: actual=") != std::string::npos);
    CHECK(out.str().find("expected=1000000000000") != std::string::npos);
    CHECK(out.str().find("maxP99Ms") == std::string::npos);

    // A server that answers 500 to everything fails without any gate file (maxErrors 0).
    buntime::harness::test::TestServer broken([](const buntime::harness::test::TestRequest&,
                                                 std::function<void(buntime::harness::test::TestResponse)> reply) {
        reply({500, "down"});
    });
    PerfConfig b = quickConfig(s);
    b.mode = Mode::Target;
    b.target = *parseTargetUrl("http://127.0.0.1:" + std::to_string(broken.port()));
    b.scenarios = {"warm-noop"};
    b.json = true;
    std::ostringstream bout, berr;
    CHECK(runPerf(b, bout, berr) == 1);
    const json rep = json::parse(bout.str());  // PERF_JSON: stdout is only the JSON report
    CHECK(rep["passed"] == false);
    CHECK(rep["pool"].is_null());  // /_/api/metrics answered 500: omitted
    CHECK(rep["gate"]["violations"][0]["metric"] == "maxErrors");
    CHECK(berr.str().find("warm-noop maxErrors: actual=") != std::string::npos);
}

TEST_CASE("PERF_MODE=http: fixtures generated and removed, IPC breakdown and pool metrics reported") {
    Scratch s;
    PerfConfig c = quickConfig(s);
    c.mode = Mode::Http;
    c.json = true;
    std::ostringstream out, err;
    CHECK(runPerf(c, out, err) == 0);
    INFO(err.str());
    CHECK_FALSE(fs::exists(".perf-fixtures"));
    const json rep = json::parse(out.str());
    CHECK(rep["config"]["mode"] == "http");
    REQUIRE(rep["results"].size() == 4);
    for (const auto& r : rep["results"]) {
        CAPTURE(r["scenario"]);
        CHECK(r["errors"] == 0);
        REQUIRE(r.contains("ipc"));
        // Counter snapshots bracket the measured phase, so they differ from the client's count
        // at most by the requests in flight at each boundary.
        const auto requests = r["requests"].get<std::uint64_t>();
        const auto messages = r["ipc"]["messagesToWorker"].get<std::uint64_t>();
        CHECK(messages + 4 >= requests);
        CHECK(messages <= requests + 8);
        CHECK(r["ipc"]["ringNsPerRequestIn"].get<double>() == doctest::Approx(1000).epsilon(0.01));
        CHECK(r["ipc"]["ringNsPerRequestOut"].get<double>() == doctest::Approx(2000).epsilon(0.01));
        CHECK(r["ipc"]["appNsPerRequest"].get<double>() == doctest::Approx(500).epsilon(0.01));
    }
    CHECK(rep["results"][1]["ipc"]["bytesToWorkerPerRequest"].get<double>() ==
          doctest::Approx(1024 + 10).epsilon(0.01));
    CHECK(rep["pool"]["activeWorkers"] == 3);
    CHECK(err.str().find("ring in") != std::string::npos);  // human report on stderr with PERF_JSON
}

TEST_CASE("PERF_MODE=direct: no sockets, same report; PERF_KEEP_FIXTURES keeps the apps") {
    Scratch s;
    PerfConfig c = quickConfig(s);
    c.mode = Mode::Direct;
    c.keep_fixtures = true;
    c.output_file = "direct.json";
    std::ostringstream out, err;
    CHECK(runPerf(c, out, err) == 0);
    INFO(out.str() << err.str());
    CHECK(fs::exists(".perf-fixtures/noop/manifest.yaml"));
    CHECK(fs::exists(".perf-fixtures/ephemeral/app.so"));
    const json rep = readJson("direct.json");
    CHECK(rep["config"]["mode"] == "direct");
    for (const auto& r : rep["results"]) {
        CHECK(r["errors"] == 0);
        CHECK(r["statusCounts"]["200"] == r["requests"]);
        CHECK_FALSE(r.contains("connectionsOpened"));
        CHECK(r.contains("ipc"));
    }
    CHECK(out.str().find("Pool metrics") != std::string::npos);
}

TEST_CASE("http mode fails cleanly when the built apps are missing") {
    Scratch s;
    PerfConfig c = quickConfig(s);
    c.apps_dir = (s.dir / "nowhere").string();
    std::ostringstream out, err;
    CHECK(runPerf(c, out, err) == 1);
    CHECK(err.str().find("not found") != std::string::npos);
    CHECK_FALSE(fs::exists(".perf-fixtures"));
}

TEST_CASE("direct driver: unanswered requests become timeouts; 404s are errors") {
    Scratch s;
    LiveTarget target(s);
    Scenario slow = *findScenario("slow-50ms");
    slow.target = "/slow/wait?ms=400";
    LoadParams p;
    p.concurrency = 2;
    p.duration_ms = 300;
    p.timeout_ms = 50;
    const auto r = runDirectLoad(*target.runtime, slow, p);
    CHECK(r.timeouts >= 2);
    CHECK(r.errors == r.timeouts);
    CHECK(r.status_counts.empty());

    Scenario missing = *findScenario("warm-noop");
    missing.target = "/nope/x";
    p.timeout_ms = 1000;
    const auto m = runDirectLoad(*target.runtime, missing, p);
    CHECK(m.requests > 0);
    CHECK(m.errors == m.requests);
    CHECK(m.status_counts.at(404) == m.requests);
}

TEST_CASE("a gate file that cannot be read fails before any load") {
    Scratch s;
    PerfConfig c = quickConfig(s);
    c.gate_file = "missing.json";
    std::ostringstream out, err;
    CHECK(runPerf(c, out, err) == 1);
    CHECK(err.str().find("cannot read gate file") != std::string::npos);
    CHECK(runtimeAvailable());
}
