// SPDX-License-Identifier: MIT
// The Prometheus page: counters vs gauges, number formats, the order of series, label escaping.
#include <doctest/doctest.h>

#include "buntime/admin/prometheus.h"
#include "golden.h"

#include <set>
#include <sstream>
#include <vector>

using namespace buntime::admin;
namespace golden = buntime::test::golden;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

WorkerRow worker(std::string key, std::string status, std::optional<std::uint64_t> rss) {
    WorkerRow w;
    w.key = std::move(key);
    w.status = std::move(status);
    w.request_count = 12;
    w.error_count = 1;
    w.avg_response_time_ms = 0.25;
    w.in_flight = 2;
    w.rss_bytes = rss;
    return w;
}

}  // namespace

TEST_CASE("snakeCase") {
    CHECK(snakeCase("totalWorkersCreated") == "total_workers_created");
    CHECK(snakeCase("memoryUsageMB") == "memory_usage_m_b");
    CHECK(snakeCase("hits") == "hits");
    CHECK(snakeCase("") == "");
}

TEST_CASE("monotonic metrics are counters with _total, the rest gauges; text fields are left out") {
    MetricsView m;
    m.hits = 7;
    m.total_requests = 11;
    m.hit_rate = 97.5;
    m.supervisor_rss_bytes = 12345678;
    m.avg_response_time_ms = 1e7;
    m.pid = 42;
    m.version = "0.1.0";
    m.listen = "127.0.0.1:8000";
    const std::string page = renderPrometheus(m, {});
    CHECK(has(page,
              "# HELP buntime_hits_total Buntime supervisor metric hits.\n"
              "# TYPE buntime_hits_total counter\n"
              "buntime_hits_total 7\n"));
    CHECK(has(page, "# TYPE buntime_total_requests_total counter\nbuntime_total_requests_total 11\n"));
    for (const char* counter :
         {"evictions", "misses", "total_workers_created", "total_workers_failed", "total_workers_retired"})
        CHECK_MESSAGE(has(page, "# TYPE buntime_" + std::string(counter) + "_total counter\n"), counter);
    CHECK(has(page, "# TYPE buntime_hit_rate gauge\nbuntime_hit_rate 97.5\n"));
    CHECK(has(page, "# TYPE buntime_supervisor_rss_bytes gauge\nbuntime_supervisor_rss_bytes 12345678\n"));
    CHECK(has(page, "buntime_avg_response_time_ms 1e+07\n"));  // doubles as %.6g
    CHECK(has(page, "# TYPE buntime_pid gauge\nbuntime_pid 42\n"));
    CHECK_FALSE(has(page, "version"));
    CHECK_FALSE(has(page, "listen"));
    CHECK_FALSE(has(page, "buntime_worker_"));  // no workers, no worker series

    // 25 numeric metrics, 3 lines each, in key order; each of the 7 counters also as the
    // Bun-based runtime's bare-named gauge (3 more lines).
    const auto all = lines(page);
    CHECK(all.size() == (25 + 7) * 3);
    CHECK(all.at(2) == "buntime_active_workers 0");
    CHECK(all.back() == "buntime_workers_rss_bytes 0");
}

TEST_CASE("worker series carry key and status labels; RSS only for live processes") {
    const std::vector<WorkerRow> workers = {worker("hello@1.0.0", "active", 4096), worker("api@2.0.0", "offline", {})};
    const std::string page = renderPrometheus(MetricsView{}, workers);
    const std::string tail = page.substr(page.find("# HELP buntime_worker_"));
    CHECK(tail ==
          "# HELP buntime_worker_requests_total Requests served by the worker.\n"
          "# TYPE buntime_worker_requests_total counter\n"
          "buntime_worker_requests_total{key=\"hello@1.0.0\",status=\"active\"} 12\n"
          "buntime_worker_requests_total{key=\"api@2.0.0\",status=\"offline\"} 12\n"
          "# HELP buntime_worker_errors_total Requests that failed in the worker.\n"
          "# TYPE buntime_worker_errors_total counter\n"
          "buntime_worker_errors_total{key=\"hello@1.0.0\",status=\"active\"} 1\n"
          "buntime_worker_errors_total{key=\"api@2.0.0\",status=\"offline\"} 1\n"
          "# HELP buntime_worker_avg_response_time_ms Average response time.\n"
          "# TYPE buntime_worker_avg_response_time_ms gauge\n"
          "buntime_worker_avg_response_time_ms{key=\"hello@1.0.0\",status=\"active\"} 0.25\n"
          "buntime_worker_avg_response_time_ms{key=\"api@2.0.0\",status=\"offline\"} 0.25\n"
          "# HELP buntime_worker_rss_bytes Resident memory of the worker process.\n"
          "# TYPE buntime_worker_rss_bytes gauge\n"
          "buntime_worker_rss_bytes{key=\"hello@1.0.0\",status=\"active\"} 4096\n"
          "# HELP buntime_worker_in_flight Requests in flight in the worker.\n"
          "# TYPE buntime_worker_in_flight gauge\n"
          "buntime_worker_in_flight{key=\"hello@1.0.0\",status=\"active\"} 2\n"
          "buntime_worker_in_flight{key=\"api@2.0.0\",status=\"offline\"} 2\n");

    // No live process at all: no RSS series, not even its header.
    CHECK_FALSE(has(renderPrometheus(MetricsView{}, {worker("api@2.0.0", "offline", {})}), "rss_bytes{"));
    CHECK_FALSE(has(renderPrometheus(MetricsView{}, {worker("api@2.0.0", "offline", {})}), "buntime_worker_rss"));
}

TEST_CASE("label values escape quotes, backslashes and newlines") {
    CHECK(escapeLabel("plain@1.0.0") == "plain@1.0.0");
    CHECK(escapeLabel("a\"b") == "a\\\"b");
    CHECK(escapeLabel("a\\b") == "a\\\\b");
    CHECK(escapeLabel("a\nb") == "a\\nb");
    const std::string page = renderPrometheus(MetricsView{}, {worker("we\"ird\\na\nme", "act\"ive", 1)});
    CHECK(has(page, "buntime_worker_requests_total{key=\"we\\\"ird\\\\na\\nme\",status=\"act\\\"ive\"} 12\n"));
    for (const auto& line : lines(page)) CHECK_FALSE(line.empty());  // no raw newline split a series
}

TEST_CASE("every metric family has exactly one TYPE line, and its samples follow it") {
    const std::string page = renderPrometheus(golden::json("metrics").get<MetricsView>(),
                                              golden::json("workers").get<WorkersReply>().workers);
    std::set<std::string> typed;
    std::string family;
    bool histogram = false;
    for (const auto& line : lines(page)) {
        if (line.starts_with("# TYPE ")) {
            family = line.substr(7, line.find(' ', 7) - 7);
            histogram = line.ends_with(" histogram");
            CHECK_MESSAGE(typed.insert(family).second, "second TYPE line for ", family);
        } else if (!line.starts_with("#")) {
            const std::string name = line.substr(0, line.find_first_of("{ "));
            // A histogram's samples are <family>_bucket, _sum and _count.
            const bool ok = histogram
                                ? name == family + "_bucket" || name == family + "_sum" || name == family + "_count"
                                : name == family;
            CHECK_MESSAGE(ok, line);
        }
    }
    CHECK(typed.count("buntime_workers_rss_bytes") == 1);  // the total, apart from the per-worker series
    CHECK(typed.count("buntime_worker_rss_bytes") == 1);
    CHECK(typed.count("buntime_worker_spawn_seconds") == 1);  // the golden metrics carry one spawn series
}

TEST_CASE("buntime_worker_spawn_seconds is a histogram: cumulative buckets, +Inf, _sum and _count per series") {
    MetricsView m;
    CHECK_FALSE(has(renderPrometheus(m, {}), "spawn_seconds"));  // no worker ready yet: no family
    SpawnSeriesView exec;
    exec.path = "exec";
    exec.kind = "so";
    exec.count = 3;
    exec.sum = 0.0215;
    exec.buckets = {{0.0005, 0}, {0.001, 1}, {0.01, 2}, {10.0, 2}};  // one of the three took over 10 s
    SpawnSeriesView fork;
    fork.path = "fork";
    fork.kind = "we\"ird";
    fork.count = 1;
    fork.sum = 0.0007;
    fork.buckets = {{0.0005, 0}, {0.001, 1}};
    m.worker_spawn_seconds = {exec, fork};
    const std::string page = renderPrometheus(m, {});
    CHECK(has(page,
              "# HELP buntime_worker_spawn_seconds Seconds from the decision to spawn a worker to its ready message.\n"
              "# TYPE buntime_worker_spawn_seconds histogram\n"
              "buntime_worker_spawn_seconds_bucket{path=\"exec\",kind=\"so\",le=\"0.0005\"} 0\n"
              "buntime_worker_spawn_seconds_bucket{path=\"exec\",kind=\"so\",le=\"0.001\"} 1\n"
              "buntime_worker_spawn_seconds_bucket{path=\"exec\",kind=\"so\",le=\"0.01\"} 2\n"
              "buntime_worker_spawn_seconds_bucket{path=\"exec\",kind=\"so\",le=\"10\"} 2\n"
              "buntime_worker_spawn_seconds_bucket{path=\"exec\",kind=\"so\",le=\"+Inf\"} 3\n"
              "buntime_worker_spawn_seconds_sum{path=\"exec\",kind=\"so\"} 0.0215\n"
              "buntime_worker_spawn_seconds_count{path=\"exec\",kind=\"so\"} 3\n"
              "buntime_worker_spawn_seconds_bucket{path=\"fork\",kind=\"we\\\"ird\",le=\"0.0005\"} 0\n"));
    CHECK(has(page, "buntime_worker_spawn_seconds_count{path=\"fork\",kind=\"we\\\"ird\"} 1\n"));
    // One TYPE line for the family, whatever the number of series.
    std::size_t types = 0;
    for (const auto& line : lines(page)) types += line == "# TYPE buntime_worker_spawn_seconds histogram";
    CHECK(types == 1);
}
