// SPDX-License-Identifier: MIT
// buntimectl's run() against a fake supervisor: rendering, --json, exit codes, width fitting.
#include <doctest/doctest.h>

#include "buntime/ctl/cli.h"
#include "buntime/ctl/client.h"
#include "buntime/ctl/units.h"
#include "fake_supervisor.h"

#include <nlohmann/json.hpp>

#include <sstream>
#include <vector>

using namespace buntime::ctl;
using buntime::ctl::test::FakeSupervisor;
using nlohmann::json;

namespace {

struct Outcome {
    int code = -1;
    std::string out;
    std::string err;
};

Outcome ctl(std::vector<std::string> args, Environment env = {}, const std::atomic<bool>* stop = nullptr) {
    std::ostringstream out;
    std::ostringstream err;
    Outcome outcome;
    outcome.code = run(args, env, out, err, stop);
    outcome.out = out.str();
    outcome.err = err.str();
    return outcome;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> all;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) {
        all.push_back(line);
    }
    return all;
}

std::size_t widestLine(const std::string& text) {
    std::size_t widest = 0;
    for (const auto& line : lines(text)) {
        widest = std::max(widest, displayWidth(line));
    }
    return widest;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The line of a table or listing that starts with `prefix` (after indentation).
std::string lineStarting(const std::string& text, const std::string& prefix) {
    for (const auto& line : lines(text)) {
        const auto start = line.find_first_not_of(' ');
        if (start != std::string::npos && line.compare(start, prefix.size(), prefix) == 0) {
            return line;
        }
    }
    return {};
}

// The whitespace-separated fields of a line.
std::vector<std::string> fields(const std::string& line) {
    std::vector<std::string> all;
    std::istringstream stream(line);
    for (std::string field; stream >> field;) {
        all.push_back(field);
    }
    return all;
}

}  // namespace

TEST_CASE("status summarises health, readiness and metrics") {
    FakeSupervisor fake;
    const Outcome result = ctl({"status", "--url", fake.url(), "--width", "100"});
    REQUIRE(result.code == exitOk);
    CHECK(result.err.empty());
    CHECK(lines(result.out).at(0) == "buntime 0.1.0 (ok, ready)");
    CHECK(fields(lineStarting(result.out, "pid")) == std::vector<std::string>{"pid", "123"});
    CHECK(contains(lineStarting(result.out, "listen"), "0.0.0.0:8000"));
    CHECK(contains(lineStarting(result.out, "uptime"), "1s"));
    CHECK(contains(lineStarting(result.out, "pool"), "1/100 workers (1.0% full)"));
    CHECK(contains(lineStarting(result.out, "hit rate"), "99.0% (100 hits, 1 misses)"));
    CHECK(contains(lineStarting(result.out, "requests"), "50.1 req/s, 101 total, avg 0.40ms"));
    CHECK(contains(lineStarting(result.out, "ephemeral"), "0/2 running, queue 0/100"));
    CHECK(contains(lineStarting(result.out, "supervisor RSS"), "11.8MiB"));

    fake.ready = false;
    const Outcome notReady = ctl({"status", "--url", fake.url()});
    CHECK(notReady.code == exitOk);
    CHECK(lines(notReady.out).at(0) == "buntime 0.1.0 (ok, NOT ready)");
}

TEST_CASE("status --json combines the three answers") {
    FakeSupervisor fake;
    const Outcome result = ctl({"--json", "status", "--url", fake.url()});
    REQUIRE(result.code == exitOk);
    const json parsed = json::parse(result.out);
    CHECK(parsed["health"] == json::parse(test::healthBody));
    CHECK(parsed["ready"]["ready"] == true);
    CHECK(parsed["ready"]["status"] == "ready");
    CHECK(parsed["metrics"] == json::parse(test::metricsBody));
}

TEST_CASE("workers renders one row per worker with human units") {
    FakeSupervisor fake;
    const Outcome result = ctl({"workers", "--url", fake.url(), "--width", "120"});
    REQUIRE(result.code == exitOk);
    const auto all = lines(result.out);
    REQUIRE(all.size() == 4);
    CHECK(fields(all[0]) == std::vector<std::string>{"KEY", "PID", "STATUS", "KIND", "REQS", "ERRS", "AVG", "AGE",
                                                     "IDLE", "RSS", "INFL", "RING", "HWM"});
    CHECK(fields(lineStarting(result.out, "hello@1.0.0")) ==
          std::vector<std::string>{"hello@1.0.0", "456", "active", "so", "100", "0", "0.30ms", "5s", "10ms", "3.3MiB",
                                   "0", "0%/0%", "0.8%/0.8%"});
    CHECK(fields(lineStarting(result.out, "hello@0.9.0")) ==
          std::vector<std::string>{"hello@0.9.0", "457", "idle", "so", "7", "2", "12ms", "2h", "1m30s", "8.6MiB", "1",
                                   "50.0%/0%", "75.0%/0.8%"});
    // Offline: no process, so no pid, RSS or rings (null in the supervisor's JSON).
    CHECK(fields(lineStarting(result.out, "api@2.0.0")) == std::vector<std::string>{"api@2.0.0", "-", "offline", "so",
                                                                                    "3000", "1", "1.5ms", "0s", "0s",
                                                                                    "-", "0", "-", "-"});
}

TEST_CASE("workers --sort and --app") {
    FakeSupervisor fake;
    auto keys = [](const std::string& out) {
        std::vector<std::string> order;
        for (const auto& line : lines(out)) {
            const auto f = fields(line);
            if (!f.empty() && f[0] != "KEY") {
                order.push_back(f[0]);
            }
        }
        return order;
    };
    const std::string url = fake.url();
    CHECK(keys(ctl({"workers", "--url", url}).out) ==
          std::vector<std::string>{"hello@1.0.0", "hello@0.9.0", "api@2.0.0"});
    CHECK(keys(ctl({"workers", "--url", url, "--sort", "key"}).out) ==
          std::vector<std::string>{"api@2.0.0", "hello@0.9.0", "hello@1.0.0"});
    CHECK(keys(ctl({"workers", "--url", url, "--sort", "requests"}).out) ==
          std::vector<std::string>{"api@2.0.0", "hello@1.0.0", "hello@0.9.0"});
    CHECK(keys(ctl({"workers", "--url", url, "--sort", "rss"}).out) ==
          std::vector<std::string>{"hello@0.9.0", "hello@1.0.0", "api@2.0.0"});
    CHECK(keys(ctl({"workers", "--url", url, "--sort", "ring"}).out) ==
          std::vector<std::string>{"hello@0.9.0", "hello@1.0.0", "api@2.0.0"});
    CHECK(keys(ctl({"workers", "--url", url, "--sort", "status"}).out) ==
          std::vector<std::string>{"hello@1.0.0", "hello@0.9.0", "api@2.0.0"});
    CHECK(keys(ctl({"workers", "--url", url, "--app", "hello", "--sort", "age"}).out) ==
          std::vector<std::string>{"hello@0.9.0", "hello@1.0.0"});
    const Outcome none = ctl({"workers", "--url", url, "--app", "nope"});
    CHECK(none.code == exitOk);
    CHECK(contains(none.out, "(no workers of app 'nope')"));
}

TEST_CASE("workers fits the terminal width") {
    FakeSupervisor fake;
    const std::string url = fake.url();
    for (const std::string width : {"120", "80", "60", "40"}) {
        CAPTURE(width);
        Environment env;
        env.columns = width;
        const Outcome result = ctl({"workers", "--url", url}, env);
        REQUIRE(result.code == exitOk);
        CHECK(widestLine(result.out) <= std::stoul(width));
        CHECK(contains(result.out, "KEY"));
        CHECK(contains(result.out, "STATUS"));
    }
    Environment narrow;
    narrow.columns = "60";
    const std::string out = ctl({"workers", "--url", url}, narrow).out;
    CHECK_FALSE(contains(out, "IDLE"));  // dropped first
    CHECK(contains(out, "REQS"));        // kept longest
    // The terminal size wins over $COLUMNS; --width wins over both.
    narrow.terminal_columns = 200;
    CHECK(contains(ctl({"workers", "--url", url}, narrow).out, "IDLE"));
    CHECK_FALSE(contains(ctl({"workers", "--url", url, "--width", "60"}, narrow).out, "IDLE"));
    // With nothing known, 100 columns.
    CHECK(widestLine(ctl({"workers", "--url", url}).out) <= 100);
}

TEST_CASE("status and metrics cut long lines to the width") {
    FakeSupervisor fake;
    for (const char* command : {"status", "metrics"}) {
        CAPTURE(command);
        const Outcome result = ctl({command, "--url", fake.url(), "--width", "30"});
        REQUIRE(result.code == exitOk);
        CHECK(widestLine(result.out) <= 30);
        CHECK(contains(result.out, "\u2026"));
    }
}

TEST_CASE("apps shows the effective config and manifest errors") {
    FakeSupervisor fake;
    const Outcome result = ctl({"apps", "--url", fake.url(), "--width", "160"});
    REQUIRE(result.code == exitOk);
    CHECK(fields(lines(result.out).at(0)) == std::vector<std::string>{"NAME", "VERSION", "KIND", "TTL", "TIMEOUT",
                                                                      "IDLE", "MAXREQ", "MAXBODY", "CONC", "THREADS",
                                                                      "FLAGS", "DIR"});
    CHECK(fields(lineStarting(result.out, "hello")) == std::vector<std::string>{"hello", "1.0.0", "so", "5m", "30s",
                                                                                "1m", "1000", "10MiB", "100", "4", "-",
                                                                                "/x/hello@1.0.0"});
    // A version whose manifest does not load, and an app-level error (no version, no dir).
    CHECK(fields(lineStarting(result.out, "bad ")) ==
          std::vector<std::string>{"bad", "2.0.0", "ERROR", "-", "-", "-", "-", "-", "-", "-", "-", "/x/bad@2.0.0"});
    CHECK(fields(lineStarting(result.out, "broken ")) ==
          std::vector<std::string>{"broken", "ERROR", "-", "-", "-", "-", "-", "-", "-", "-", "-"});
    CHECK(contains(result.out, "Manifest errors:"));
    CHECK(contains(result.out,
                   "  bad@2.0.0\n    file:  /x/bad@2.0.0/manifest.yaml\n    key:   timeout\n"
                   "    error: /x/bad@2.0.0/manifest.yaml: key 'timeout': invalid duration \"abc\"\n"));
    CHECK(contains(result.out, "  broken@\n    file:  /x/broken/manifest.yaml\n    key:   ttl\n"));

    Environment env;
    env.columns = "50";
    const Outcome narrow = ctl({"apps", "--url", fake.url()}, env);
    // The table fits; the error section keeps whole paths.
    const std::string table = narrow.out.substr(0, narrow.out.find("Manifest errors"));
    CHECK(widestLine(table) <= 50);
    CHECK(contains(narrow.out, "/x/bad@2.0.0/manifest.yaml"));
}

TEST_CASE("metrics lists every field with human units") {
    FakeSupervisor fake;
    const Outcome result = ctl({"metrics", "--url", fake.url()});
    REQUIRE(result.code == exitOk);
    const json metrics = json::parse(test::metricsBody);
    for (const auto& [key, value] : metrics.items()) {
        CHECK_MESSAGE(!lineStarting(result.out, key + " ").empty(), key);
    }
    CHECK(fields(lineStarting(result.out, "uptimeMs")) == std::vector<std::string>{"uptimeMs", "1000", "(1s)"});
    CHECK(fields(lineStarting(result.out, "supervisorRssBytes")) ==
          std::vector<std::string>{"supervisorRssBytes", "12345678", "(11.8MiB)"});
    CHECK(fields(lineStarting(result.out, "hitRate")) == std::vector<std::string>{"hitRate", "99", "(99.0%)"});
    CHECK(fields(lineStarting(result.out, "listen")) == std::vector<std::string>{"listen", "0.0.0.0:8000"});
}

TEST_CASE("--json passes the supervisor's JSON through unchanged") {
    FakeSupervisor fake;
    const std::string url = fake.url();
    const std::pair<const char*, const std::string*> cases[] = {
        {"workers", &test::workersBody}, {"apps", &test::appsBody}, {"metrics", &test::metricsBody}};
    for (const auto& [command, body] : cases) {
        CAPTURE(command);
        const Outcome result = ctl({command, "--json", "--url", url});
        REQUIRE(result.code == exitOk);
        CHECK(result.out == *body + "\n");
    }
    // --app filters the JSON rows as it filters the table.
    const auto filtered = nlohmann::json::parse(ctl({"workers", "--json", "--app", "api", "--url", url}).out);
    REQUIRE(filtered["workers"].size() == 1);
    CHECK(filtered["workers"][0]["key"] == "api@2.0.0");
}

TEST_CASE("metrics --watch prints a header and one line per refresh") {
    FakeSupervisor fake;
    const Outcome result = ctl({"metrics", "--watch", "0.1", "--count", "3", "--url", fake.url()});
    REQUIRE(result.code == exitOk);
    const auto all = lines(result.out);
    REQUIRE(all.size() == 4);
    CHECK(fields(all[0]) ==
          std::vector<std::string>{"TIME", "RPS", "REQS", "HIT%", "WORKERS", "EPH", "QUEUE", "AVG", "RSS"});
    for (std::size_t i = 1; i < all.size(); ++i) {
        const auto f = fields(all[i]);
        REQUIRE(f.size() == 9);
        CHECK(f[1] == "50.1");
        CHECK(f[2] == "101");
        CHECK(f[3] == "99.0%");
        CHECK(f[4] == "1/100");
        CHECK(f[6] == "0/100");
        CHECK(f[8] == "11.8MiB");
    }
    CHECK(fake.metricsCalls == 3);

    const Outcome jsonLines = ctl({"metrics", "--watch", "0.1", "--count", "2", "--json", "--url", fake.url()});
    REQUIRE(jsonLines.code == exitOk);
    const auto records = lines(jsonLines.out);
    REQUIRE(records.size() == 2);
    for (const auto& record : records) {
        CHECK(json::parse(record) == json::parse(test::metricsBody));
    }
}

TEST_CASE("metrics --watch stops cleanly when the stop flag is raised") {
    FakeSupervisor fake;
    std::atomic<bool> stop{false};
    std::thread stopper([&] {
        while (fake.metricsCalls < 2) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        stop = true;
    });
    const Outcome result = ctl({"metrics", "--watch", "0.1", "--url", fake.url()}, {}, &stop);
    stopper.join();
    CHECK(result.code == exitOk);
    CHECK(result.err.empty());
    // The header and the first refresh at least; the second may be cut short by the stop.
    const auto all = lines(result.out);
    REQUIRE(all.size() >= 2);
    CHECK(fields(all[1]).size() == 9);
}

TEST_CASE("retire and reload send the bearer token") {
    FakeSupervisor fake;
    fake.requireToken("s3cret");
    const std::string url = fake.url();

    const Outcome retired = ctl({"retire", "hello@1.0.0", "--url", url, "--token", "s3cret"});
    CHECK(retired.code == exitOk);
    CHECK(retired.out == "retired hello@1.0.0\n");
    CHECK(fake.lastPath() == "/_/api/workers/hello@1.0.0/retire");
    CHECK(fake.lastAuthorization() == "Bearer s3cret");
    CHECK_FALSE(fake.hasWorker("hello@1.0.0"));

    Environment env;
    env.token = "s3cret";
    const Outcome reloaded = ctl({"reload", "--url", url}, env);
    CHECK(reloaded.code == exitOk);
    CHECK(reloaded.out == "reloaded\n");
    CHECK(fake.reloaded);

    const Outcome json = ctl({"retire", "api@2.0.0", "--json", "--url", url}, env);
    CHECK(json.code == exitOk);
    CHECK(json.out == "{\"retired\":\"api@2.0.0\"}\n");
}

TEST_CASE("a supervisor error exits 1 and prints its message") {
    FakeSupervisor fake;
    fake.requireToken("s3cret");
    const std::string url = fake.url();

    const Outcome missing = ctl({"retire", "nope@1.0.0", "--url", url, "--token", "s3cret"});
    CHECK(missing.code == exitServerError);
    CHECK(missing.out.empty());
    CHECK(missing.err ==
          "buntimectl: no live worker nope@1.0.0 (NOT_FOUND, HTTP 404 from "
          "/_/api/workers/nope@1.0.0/retire)\n");

    const Outcome unauthorized = ctl({"reload", "--url", url});
    CHECK(unauthorized.code == exitServerError);
    CHECK(contains(unauthorized.err, "missing or wrong bearer token (UNAUTHORIZED, HTTP 401"));
    CHECK(contains(unauthorized.err, "--token"));
    CHECK_FALSE(fake.reloaded);
}

TEST_CASE("an unreachable supervisor exits 3 naming the address") {
    const int port = test::closedPort();
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    for (const char* command : {"status", "workers", "apps", "metrics", "reload"}) {
        CAPTURE(command);
        const Outcome result = ctl({command, "--url", url});
        CHECK(result.code == exitUnreachable);
        CHECK(result.err == "buntimectl: cannot reach " + url + " (Connection refused)\n");
        CHECK(result.out.empty());
    }
    // The default address comes from $PORT.
    Environment env;
    env.port = std::to_string(port);
    const Outcome byPort = ctl({"status"}, env);
    CHECK(byPort.code == exitUnreachable);
    CHECK(contains(byPort.err, "cannot reach " + url + " ("));
    // --watch gives up when the very first refresh fails.
    const Outcome watch = ctl({"metrics", "--watch", "0.1", "--url", url});
    CHECK(watch.code == exitUnreachable);
    CHECK(contains(watch.err, "cannot reach " + url));

    const Outcome noSocket = ctl({"workers", "--socket", "/nonexistent/buntime-admin.sock"});
    CHECK(noSocket.code == exitUnreachable);
    CHECK(noSocket.err ==
          "buntimectl: cannot reach unix:/nonexistent/buntime-admin.sock (No such file or "
          "directory)\n");
}

TEST_CASE("usage errors exit 2 with a hint") {
    const Outcome unknown = ctl({"explode"});
    CHECK(unknown.code == exitUsage);
    CHECK(unknown.err == "buntimectl: unknown command 'explode'\nTry 'buntimectl --help'.\n");
    const Outcome badSort = ctl({"workers", "--sort", "colour"});
    CHECK(badSort.code == exitUsage);
    CHECK(contains(badSort.err, "Try 'buntimectl workers --help'."));
    const Outcome badUrl = ctl({"status", "--url", "https://example.com"});
    CHECK(badUrl.code == exitUsage);
    CHECK(contains(badUrl.err, "--url"));
    const Outcome badPath = ctl({"status", "--url", "http://127.0.0.1:8000/x"});
    CHECK(badPath.code == exitUsage);
    Environment env;
    env.port = "eighty";
    const Outcome badPort = ctl({"status"}, env);
    CHECK(badPort.code == exitUsage);
    CHECK(contains(badPort.err, "PORT"));
}

TEST_CASE("help and version") {
    const Outcome help = ctl({"--help"});
    CHECK(help.code == exitOk);
    CHECK(help.out == helpText(Command::None));
    const Outcome workersHelp = ctl({"workers", "--help", "--sort", "bogus"});
    CHECK(workersHelp.code == exitOk);
    CHECK(workersHelp.out == helpText(Command::Workers));
    const Outcome version = ctl({"--version"});
    CHECK(version.code == exitOk);
    CHECK(version.out == "buntimectl 0.1.0\n");
}

TEST_CASE("the admin unix socket works like the URL") {
    const std::string path = "/tmp/buntimectl-test-" + std::to_string(::getpid()) + ".sock";
    FakeSupervisor fake(path);
    const Outcome result = ctl({"workers", "--socket", path, "--json"});
    REQUIRE(result.code == exitOk);
    CHECK(result.out == test::workersBody + "\n");
    const Outcome status = ctl({"status", "--socket", path});
    CHECK(status.code == exitOk);
    CHECK(contains(status.out, "buntime 0.1.0 (ok, ready)"));
}

TEST_CASE("a non-JSON error body is shown as its first line") {
    FakeSupervisor fake;
    fake.broken = true;
    const Outcome broken = ctl({"workers", "--url", fake.url()});
    CHECK(broken.code == exitServerError);
    CHECK(broken.err == "buntimectl: internal failure (HTTP 500 from /_/api/workers)\n");

    fake.broken = false;
    fake.notJson = true;
    const Outcome html = ctl({"workers", "--url", fake.url()});
    CHECK(html.code == exitServerError);
    CHECK(html.err ==
          "buntimectl: " + fake.url() + "/_/api/workers did not answer JSON (is this a buntime supervisor?)\n");
}

TEST_CASE("endpoint parsing") {
    std::string error;
    const auto full = parseEndpoint("http://127.0.0.1:9000/", error);
    REQUIRE(full);
    CHECK(full->host == "127.0.0.1");
    CHECK(full->port == 9000);
    CHECK(full->display() == "http://127.0.0.1:9000");
    const auto bare = parseEndpoint("localhost:8001", error);
    REQUIRE(bare);
    CHECK(bare->display() == "http://localhost:8001");
    const auto v6 = parseEndpoint("http://[::1]:8000", error);
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->display() == "http://[::1]:8000");
    CHECK_FALSE(parseEndpoint("http://h:99999", error));
    CHECK(contains(error, "port"));
    CHECK_FALSE(parseEndpoint("ftp://h:1", error));
    CHECK(unixEndpoint("/run/buntime/admin.sock").display() == "unix:/run/buntime/admin.sock");
    CHECK(encodePathSegment("hello@1.0.0") == "hello@1.0.0");
    CHECK(encodePathSegment("a b/c") == "a%20b%2Fc");
}
