// SPDX-License-Identifier: MIT
// An httplib::Server on loopback (TCP or unix socket) that answers the admin API with the
// supervisor's own admin::AdminApi over the golden views.
#pragma once

#include <httplib.h>

#include "buntime/admin/routes.h"
#include "golden.h"
#include "ports.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace buntime::ctl::test {

// The supervisor's answers, as it sends them: the golden files tests/golden/admin/*.json,
// which tests/supervisor checks against a live supervisor, so this fake cannot drift.
inline const std::string healthBody = buntime::test::golden::body("health");
inline const std::string metricsBody = buntime::test::golden::body("metrics");
// Three workers: an active one, an older idle version of the same app, an offline one.
inline const std::string workersBody = buntime::test::golden::body("workers");
// A loaded app and one whose manifest has an error.
inline const std::string appsBody = buntime::test::golden::body("apps");

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

    // Mutating calls over TCP need "Bearer <token>"; without one they are refused (403), as
    // a supervisor without RUNTIME_ADMIN_TOKEN does. The unix socket needs no token.
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
    // The supervisor as admin::AdminApi sees it: the golden views; retire() knows the golden
    // workers until each is retired once.
    class View final : public admin::SupervisorView {
    public:
        explicit View(FakeSupervisor& fake) : fake_(fake) {}
        admin::HealthView health() override { return golden<admin::HealthView>("health"); }
        admin::MetricsView metrics() override {
            ++fake_.metricsCalls;
            return golden<admin::MetricsView>("metrics");
        }
        std::vector<admin::WorkerRow> workers() override { return golden<admin::WorkersReply>("workers").workers; }
        std::vector<admin::AppRow> apps() override { return golden<admin::AppsReply>("apps").apps; }
        bool draining() const override { return !fake_.ready; }
        void reload() override { fake_.reloaded = true; }
        bool retire(std::string_view key) override { return fake_.workers_.erase(std::string(key)) != 0; }

    private:
        template <typename T>
        static T golden(std::string_view name) {
            return buntime::test::golden::json(name).get<T>();
        }
        FakeSupervisor& fake_;
    };

    static std::set<std::string> goldenWorkerKeys() {
        std::set<std::string> keys;
        for (const auto& worker : buntime::test::golden::json("workers").get<admin::WorkersReply>().workers)
            keys.insert(worker.key);
        return keys;
    }

    void serve(const httplib::Request& request, httplib::Response& response) {
        std::lock_guard lock(mutex_);
        last_authorization_ = request.get_header_value("Authorization");
        last_path_ = request.path;
        if (request.path == "/_/api/workers" && broken) {
            response.status = 500;
            response.set_content("internal failure\nstack trace", "text/plain");
            return;
        }
        if (request.path == "/_/api/workers" && notJson) {
            response.set_content("<html>hello</html>", "text/html");
            return;
        }
        const std::string* authorization = request.has_header("Authorization") ? &last_authorization_ : nullptr;
        View view(*this);
        admin::AdminApi api(view, token_);
        const admin::Reply reply = api.handle({request.method, request.path, authorization, !unix_path_.empty()});
        response.status = static_cast<int>(reply.status);
        response.set_content(reply.body, reply.content_type);
    }

    void routes() {
        auto handler = [this](const httplib::Request& rq, httplib::Response& rs) { serve(rq, rs); };
        server_.Get(R"(/.*)", handler);
        server_.Post(R"(/.*)", handler);
    }

    std::string unix_path_;
    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
    mutable std::mutex mutex_;
    std::string token_;
    std::string last_authorization_;
    std::string last_path_;
    std::set<std::string> workers_ = goldenWorkerKeys();  // live until retired
};

// A loopback port nothing listens on: bound then closed (refused on connect).
inline int closedPort() { return buntime::test::freePort(); }

}  // namespace buntime::ctl::test
