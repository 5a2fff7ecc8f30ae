// SPDX-License-Identifier: MIT
// buntimectl logs against a fake admin API: the tail as JSON lines, -f over server-sent
// events, --tail and --json, errors and usage.
#include <doctest/doctest.h>

#include <httplib.h>

#include "buntime/ctl/cli.h"
#include "buntime/ctl/logs.h"

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

using namespace buntime::ctl;

namespace {

const std::string kLine1 =
    R"({"time":"2026-11-30T03:04:05.678Z","app":"hello","version":"1.0.0","pid":4242,"stream":"stdout","line":"listening"})";
const std::string kLine2 =
    R"({"time":"2026-11-30T03:04:06.000Z","app":"hello","version":"1.0.0","pid":4242,"stream":"stderr","line":"bad \\xff byte","truncated":true})";

// Answers GET /_/api/apps/hello/logs (JSON lines, or with follow=1 a short SSE stream that
// ends by itself); other apps 404. Records the query strings it saw.
class FakeLogs {
public:
    FakeLogs() {
        server_.Get(R"(/_/api/apps/([^/]+)/logs)", [this](const httplib::Request& req, httplib::Response& res) {
            {
                std::lock_guard lock(mutex_);
                tails_.push_back(req.get_param_value("tail"));
            }
            if (req.matches[1] != "hello") {
                res.status = 404;
                res.set_content(R"({"success":false,"code":"NOT_FOUND","error":"NOT_FOUND","message":"no app named )" +
                                    std::string(req.matches[1]) + "\"}",
                                "application/json");
                return;
            }
            if (req.get_param_value("follow") != "1") {
                res.set_content(kLine1 + "\n" + kLine2 + "\n", "application/x-ndjson");
                return;
            }
            res.set_chunked_content_provider("text/event-stream", [](std::size_t, httplib::DataSink& sink) {
                const std::string events = ": following hello\n\ndata: " + kLine1 + "\n\n: heartbeat\n\ndata: " +
                                           kLine2.substr(0, 40);  // an event split across writes
                sink.write(events.data(), events.size());
                const std::string rest = kLine2.substr(40) + "\n\n";
                sink.write(rest.data(), rest.size());
                sink.done();
                return true;
            });
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~FakeLogs() {
        server_.stop();
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::vector<std::string> tails() {
        std::lock_guard lock(mutex_);
        return tails_;
    }

private:
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::string> tails_;
};

struct Outcome {
    int code = -1;
    std::string out;
    std::string err;
};

Outcome ctl(std::vector<std::string> args) {
    std::ostringstream out, err;
    Outcome o;
    o.code = run(args, Environment{}, out, err, nullptr);
    o.out = out.str();
    o.err = err.str();
    return o;
}

}  // namespace

TEST_CASE("logs NAME prints the tail as TIME APP@VERSION[PID] STREAM: LINE") {
    FakeLogs fake;
    auto o = ctl({"logs", "hello", "--url", fake.url()});
    CHECK(o.code == exitOk);
    CHECK(o.err.empty());
    CHECK(o.out ==
          "2026-11-30T03:04:05.678Z hello@1.0.0[4242] stdout: listening\n"
          "2026-11-30T03:04:06.000Z hello@1.0.0[4242] stderr: bad \\xff byte (truncated)\n");
    o = ctl({"logs", "hello", "--tail", "5", "--json", "--url", fake.url()});
    CHECK(o.code == exitOk);
    CHECK(o.out.find("\"pid\":4242") != std::string::npos);
    CHECK(o.out.find("\"line\":\"listening\"") != std::string::npos);
    const auto tails = fake.tails();
    REQUIRE(tails.size() == 2);
    CHECK(tails[0] == "200");
    CHECK(tails[1] == "5");
}

TEST_CASE("logs -f prints the events of the stream, heartbeats skipped, until it ends") {
    FakeLogs fake;
    auto o = ctl({"logs", "-f", "hello", "--url", fake.url()});
    CHECK(o.code == exitOk);
    CHECK(o.err.empty());
    CHECK(o.out ==
          "2026-11-30T03:04:05.678Z hello@1.0.0[4242] stdout: listening\n"
          "2026-11-30T03:04:06.000Z hello@1.0.0[4242] stderr: bad \\xff byte (truncated)\n");
    CHECK(fake.tails().at(0) == "10");
}

TEST_CASE("logs of an unknown app exits 1 with the supervisor's message; usage errors exit 2") {
    FakeLogs fake;
    auto o = ctl({"logs", "nope", "--url", fake.url()});
    CHECK(o.code == exitServerError);
    CHECK(o.err.find("no app named nope") != std::string::npos);
    CHECK(o.err.find("HTTP 404") != std::string::npos);
    o = ctl({"logs", "-f", "nope", "--url", fake.url()});
    CHECK(o.code == exitServerError);
    CHECK(o.err.find("no app named nope") != std::string::npos);
    CHECK(ctl({"logs"}).code == exitUsage);
    CHECK(ctl({"logs", "a", "b"}).code == exitUsage);
    CHECK(ctl({"logs", "hello", "--tail", "x"}).code == exitUsage);
    CHECK(ctl({"status", "-f"}).code == exitUsage);
    CHECK(ctl({"logs", "--help"}).out.find("buntimectl logs NAME") != std::string::npos);
}

TEST_CASE("formatLogLine refuses what is not a log line") {
    CHECK(formatLogLine("{}", false).empty());
    CHECK(formatLogLine("not json", false).empty());
    CHECK(formatLogLine(kLine1, false) == "2026-11-30T03:04:05.678Z hello@1.0.0[4242] stdout: listening\n");
}
