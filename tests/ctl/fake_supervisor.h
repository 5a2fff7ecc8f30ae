// SPDX-License-Identifier: MIT
// An httplib::Server on loopback (TCP or unix socket) answering the admin API shapes.
#pragma once

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace buntime::ctl::test {

inline const std::string healthBody =
    R"({"status":"ok","version":"0.1.0","pid":123,"uptimeMs":1000,"listen":"0.0.0.0:8000"})";

inline const std::string metricsBody =
    R"({"activeWorkers":1,"avgResponseTimeMs":0.4,"evictions":0,"ephemeralConcurrency":2,)"
    R"("ephemeralQueueDepth":0,"ephemeralQueueLimit":100,"ephemeralConcurrencyLimit":2,)"
    R"("hitRate":99.0,"ephemeralActive":0,"hits":100,"misses":1,"memoryUsageMB":12.5,"requestsPerSecond":50.1,)"
    R"("totalRequests":101,"totalWorkersCreated":1,"totalWorkersFailed":0,)"
    R"("totalWorkersRetired":0,"uptimeMs":1000,"poolSize":100,"pid":123,"version":"0.1.0",)"
    R"("listen":"0.0.0.0:8000","supervisorRssBytes":12345678})";

inline const std::string ringSide = R"({"capacity":262144,"used":0,"highWater":2048,"messages":100,"bytes":10000,)"
                                    R"("wakeups":3,"spinHits":97,"sleeps":3,"fullStalls":0})";

// Three workers: an active one, an older idle version of the same app, an offline one.
inline const std::string workersBody =
    R"({"workers":[)"
    R"({"key":"hello@1.0.0","name":"hello","version":"1.0.0","pid":456,"status":"active",)"
    R"("requestCount":100,"errorCount":0,"avgResponseTimeMs":0.3,"ageMs":5000,"idleMs":10,)"
    R"("rssBytes":3456789,"inFlight":0,"ring":{"toWorker":)" +
    ringSide + R"(,"toSupervisor":)" + ringSide +
    R"(}},)"
    R"({"key":"hello@0.9.0","name":"hello","version":"0.9.0","pid":457,"status":"idle",)"
    R"("requestCount":7,"errorCount":2,"avgResponseTimeMs":12.5,"ageMs":7200000,)"
    R"("idleMs":90000,"rssBytes":9000000,"inFlight":1,"ring":{"toWorker":)"
    R"({"capacity":262144,"used":131072,"highWater":196608,"messages":7,"bytes":700,)"
    R"("wakeups":1,"spinHits":6,"sleeps":1,"fullStalls":0},"toSupervisor":)" +
    ringSide +
    R"(}},)"
    R"({"key":"api@2.0.0","name":"api","version":"2.0.0","pid":0,"status":"offline",)"
    R"("requestCount":3000,"errorCount":1,"avgResponseTimeMs":1.5,"ageMs":0,"idleMs":0,)"
    R"("rssBytes":0,"inFlight":0,"ring":null}]})";

inline const std::string appsBody =
    R"({"apps":[{"name":"hello","version":"1.0.0","dir":"/x/hello","entrypointKind":"so",)"
    R"("config":{"ttlMs":300000,"timeoutMs":30000,"idleTimeoutMs":60000,"maxRequests":1000,)"
    R"("maxBodySize":10485760,"lowMemory":false,"injectBase":false,"publicRoutes":[],)"
    R"("concurrency":100,"threads":4},"error":null},)"
    R"({"name":"bad","version":"latest","dir":"/x/bad","error":{"file":"/x/bad/manifest.yaml",)"
    R"("key":"timeout","message":"invalid duration \"abc\""}}]})";

// Serves the admin API on a thread until destroyed. Thread-safe accessors.
class FakeSupervisor {
public:
    // unixPath empty: TCP on 127.0.0.1 at a free port; otherwise a unix socket at unixPath.
    explicit FakeSupervisor(std::string unixPath = {}) : unix_path_(std::move(unixPath)) {
        routes();
        if (unix_path_.empty()) {
            port_ = server_.bind_to_any_port("127.0.0.1");
            thread_ = std::thread([this] { server_.listen_after_bind(); });
        } else {
            ::unlink(unix_path_.c_str());
            server_.set_address_family(AF_UNIX);
            thread_ = std::thread([this] { server_.listen(unix_path_.c_str(), 80); });
        }
        while (!server_.is_running()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    ~FakeSupervisor() {
        server_.stop();
        thread_.join();
        if (!unix_path_.empty()) {
            ::unlink(unix_path_.c_str());
        }
    }
    FakeSupervisor(const FakeSupervisor&) = delete;
    FakeSupervisor& operator=(const FakeSupervisor&) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }

    std::atomic<bool> ready{true};
    std::atomic<int> metricsCalls{0};
    std::atomic<bool> reloaded{false};
    std::atomic<bool> broken{false};   // GET /_/api/workers answers 500 with a text body
    std::atomic<bool> notJson{false};  // GET /_/api/workers answers 200 with HTML

    void requireToken(std::string token) {
        std::lock_guard lock(mutex_);
        token_ = std::move(token);
    }
    std::string lastAuthorization() const {
        std::lock_guard lock(mutex_);
        return last_authorization_;
    }
    std::string lastPath() const {
        std::lock_guard lock(mutex_);
        return last_path_;
    }
    bool hasWorker(const std::string& key) const {
        std::lock_guard lock(mutex_);
        return workers_.count(key) != 0;
    }

private:
    static void json(httplib::Response& response, int status, const std::string& body) {
        response.status = status;
        response.set_content(body, "application/json");
    }

    void remember(const httplib::Request& request) {
        std::lock_guard lock(mutex_);
        last_authorization_ = request.get_header_value("Authorization");
        last_path_ = request.path;
    }

    // True when the request may mutate; otherwise the 401 is already written.
    bool authorized(const httplib::Request& request, httplib::Response& response) {
        std::lock_guard lock(mutex_);
        if (token_.empty() || request.get_header_value("Authorization") == "Bearer " + token_) {
            return true;
        }
        json(response, 401, R"({"error":"UNAUTHORIZED","message":"missing or wrong admin token"})");
        return false;
    }

    void routes() {
        server_.Get("/_/api/health", [this](const httplib::Request& rq, httplib::Response& rs) {
            remember(rq);
            json(rs, 200, healthBody);
        });
        server_.Get("/_/api/health/ready", [this](const httplib::Request& rq, httplib::Response& rs) {
            remember(rq);
            json(rs, ready ? 200 : 503, ready ? R"({"ready":true})" : R"({"ready":false})");
        });
        server_.Get("/_/api/health/live", [this](const httplib::Request& rq, httplib::Response& rs) {
            remember(rq);
            json(rs, 200, R"({"live":true})");
        });
        server_.Get("/_/api/metrics", [this](const httplib::Request& rq, httplib::Response& rs) {
            remember(rq);
            ++metricsCalls;
            json(rs, 200, metricsBody);
        });
        server_.Get("/_/api/workers", [this](const httplib::Request& rq, httplib::Response& rs) {
            remember(rq);
            if (broken) {
                rs.status = 500;
                rs.set_content("internal failure\nstack trace", "text/plain");
            } else if (notJson) {
                rs.set_content("<html>hello</html>", "text/html");
            } else {
                json(rs, 200, workersBody);
            }
        });
        server_.Get("/_/api/apps", [this](const httplib::Request& rq, httplib::Response& rs) {
            remember(rq);
            json(rs, 200, appsBody);
        });
        server_.Post(R"(/_/api/workers/([^/]+)/retire)", [this](const httplib::Request& rq, httplib::Response& rs) {
            remember(rq);
            if (!authorized(rq, rs)) {
                return;
            }
            const std::string key = httplib::detail::decode_url(rq.matches[1], false);
            std::lock_guard lock(mutex_);
            if (workers_.erase(key) == 0) {
                json(rs, 404, R"({"error":"NOT_FOUND","message":"no worker )" + key + R"("})");
                return;
            }
            json(rs, 200, R"({"retired":")" + key + R"("})");
        });
        server_.Post("/_/api/reload", [this](const httplib::Request& rq, httplib::Response& rs) {
            remember(rq);
            if (!authorized(rq, rs)) {
                return;
            }
            reloaded = true;
            json(rs, 200, R"({"reloaded":true})");
        });
    }

    std::string unix_path_;
    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
    mutable std::mutex mutex_;
    std::string token_;
    std::string last_authorization_;
    std::string last_path_;
    std::set<std::string> workers_{"hello@1.0.0", "hello@0.9.0", "api@2.0.0"};
};

// A loopback port nothing listens on: bound then closed (refused on connect).
inline int closedPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

}  // namespace buntime::ctl::test
