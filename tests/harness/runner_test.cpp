// SPDX-License-Identifier: MIT
// End-to-end runs of the harness: PERF_TARGET against a live server, and http/direct modes
// against the fake target (fixtures, IPC breakdown, pool metrics, gates, JSON, exit codes).
#include <doctest/doctest.h>

#include "buntime/harness/direct_load.h"
#include "buntime/harness/fixtures.h"
#include "buntime/harness/runner.h"
#include "fake_target.h"
#include "temp_dir.h"
#include "test_server.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace buntime::harness;
using buntime::harness::test::FakeRuntime;
using buntime::harness::test::fakeStart;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A scratch directory (also the working directory while alive) holding fake built apps.
struct Scratch {
    Scratch() : temp("buntime-perf-test"), dir(temp.root()), apps(dir / "apps"), previous(fs::current_path()) {
        fs::current_path(dir);
        for (const char* app : {"hello", "echo", "slow"})
            temp.write(fs::path("apps") / app / "app.so", std::string("not really a shared object: ") + app);
    }
    ~Scratch() { fs::current_path(previous); }
    buntime::test::TempDir temp;
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
        auto started = FakeRuntime::start((s.dir / "installed").string());
        REQUIRE(started);
        runtime = started.value();
        url = *parseTargetUrl("http://127.0.0.1:" + std::to_string(runtime->port()));
    }
    std::shared_ptr<FakeRuntime> runtime;
    TargetUrl url;
};

// The runner's per-scenario IPC figures must be the window of the counters between the two
// snapshots it took around the measured phase: recompute them from the fake's exact sums.
void checkIpcWindows(const json& report, const FakeRuntime& fake) {
    const auto snaps = fake.snapshots();
    REQUIRE(snaps.size() == 2 * report["results"].size());  // one before, one after each scenario
    for (std::size_t i = 0; i < report["results"].size(); ++i) {
        const json& r = report["results"][i];
        CAPTURE(r["scenario"]);
        const auto& a = snaps[2 * i];
        const auto& b = snaps[2 * i + 1];
        const auto n = b.counters.messages_to_worker - a.counters.messages_to_worker;
        REQUIRE(n > 0);
        const double dn = static_cast<double>(n);
        const json& ipc = r["ipc"];
        CHECK(ipc["messagesToWorker"] == n);
        CHECK(ipc["messagesToSupervisor"] == b.counters.messages_to_supervisor - a.counters.messages_to_supervisor);
        CHECK(ipc["bytesToWorker"] == b.counters.bytes_to_worker - a.counters.bytes_to_worker);
        CHECK(ipc["wakeups"] == b.counters.wakeups - a.counters.wakeups);
        CHECK(ipc["spinHits"] == b.counters.spin_hits - a.counters.spin_hits);
        CHECK(ipc["ringNsPerRequestIn"].get<double>() ==
              doctest::Approx((b.ring_in_ns_sum - a.ring_in_ns_sum) / dn).epsilon(1e-6));
        CHECK(ipc["ringNsPerRequestOut"].get<double>() ==
              doctest::Approx((b.ring_out_ns_sum - a.ring_out_ns_sum) / dn).epsilon(1e-6));
        CHECK(ipc["appNsPerRequest"].get<double>() ==
              doctest::Approx((b.app_ns_sum - a.app_ns_sum) / dn).epsilon(1e-6));
        // Not the running mean since start: the earlier scenarios' apps report other times.
        if (i > 0) CHECK(ipc["ringNsPerRequestIn"].get<double>() != doctest::Approx(b.counters.ring_ns_per_request_in));
    }
}

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
    std::shared_ptr<FakeRuntime> fake;
    CHECK(runPerf(c, out, err, fakeStart(&fake)) == 0);
    REQUIRE(fake);
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
    }
    checkIpcWindows(rep, *fake);
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
    std::shared_ptr<FakeRuntime> fake;
    CHECK(runPerf(c, out, err, fakeStart(&fake)) == 0);
    REQUIRE(fake);
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
    checkIpcWindows(rep, *fake);
    CHECK(rep["pool"]["activeWorkers"] == 3);
    CHECK(out.str().find("Pool metrics") != std::string::npos);
}

TEST_CASE("http mode fails cleanly when the built apps are missing") {
    Scratch s;
    PerfConfig c = quickConfig(s);
    c.apps_dir = (s.dir / "nowhere").string();
    std::ostringstream out, err;
    CHECK(runPerf(c, out, err, fakeStart()) == 1);
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
    FakeRuntime* runtime = target.runtime.get();
    const DirectSubmit submit = [runtime](buntime::supervisor::DirectRequest request, DirectDone done) {
        runtime->direct(std::move(request), std::move(done));
    };
    const auto r = runDirectLoad(submit, slow, p);
    CHECK(r.timeouts >= 2);
    CHECK(r.errors == r.timeouts);
    CHECK(r.status_counts.empty());

    Scenario missing = *findScenario("warm-noop");
    missing.target = "/nope/x";
    p.timeout_ms = 1000;
    const auto m = runDirectLoad(submit, missing, p);
    CHECK(m.requests > 0);
    CHECK(m.errors == m.requests);
    CHECK(m.status_counts.at(404) == m.requests);
}

TEST_CASE("a gate file that cannot be read fails before any load") {
    Scratch s;
    PerfConfig c = quickConfig(s);
    c.gate_file = "missing.json";
    std::ostringstream out, err;
    bool started = false;
    const StartTarget start = [&](const PerfConfig& config, const std::string& fixtures) {
        started = true;
        return fakeStart()(config, fixtures);
    };
    CHECK(runPerf(c, out, err, start) == 1);
    CHECK(err.str().find("cannot read gate file") != std::string::npos);
    CHECK_FALSE(started);
    CHECK_FALSE(fs::exists(".perf-fixtures"));
}

TEST_CASE("a target that fails to start exits 1 with the reason, fixtures removed") {
    Scratch s;
    PerfConfig c = quickConfig(s);
    std::ostringstream out, err;
    const StartTarget failing =
        [](const PerfConfig&, const std::string&) -> buntime::base::Expected<std::unique_ptr<Target>, std::string> {
        return std::string("no luck");
    };
    CHECK(runPerf(c, out, err, failing) == 1);
    CHECK(err.str().find("runtime failed to start: no luck") != std::string::npos);
    CHECK_FALSE(fs::exists(".perf-fixtures"));
}
