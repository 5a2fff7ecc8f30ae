// SPDX-License-Identifier: MIT
// Fake buntime::supervisor::Runtime: serves the four fixture routes (and /_/api/metrics) over
// HTTP with TestServer and through direct(), with pool metrics and IPC counters that move.
#include <buntime/supervisor/runtime.h>

#include "test_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <mutex>
#include <set>

namespace buntime::supervisor {

using harness::test::TestRequest;
using harness::test::TestResponse;
using harness::test::TestServer;

struct Runtime::Impl {
    SupervisorConfig options;
    std::unique_ptr<TestServer> server;
    mutable std::mutex mu;
    std::set<std::string> warm;  // apps with a live (fake) worker
    std::uint64_t hits = 0, misses = 0, created = 0;
    IpcCounters ipc;

    void route(const TestRequest& req, const std::function<void(TestResponse)>& reply) {
        const std::string path = req.target.substr(0, req.target.find('?'));
        if (path == "/_/api/metrics") {
            TestResponse r;
            r.content_type = "application/json";
            r.body = metrics().dump();
            reply(std::move(r));
            return;
        }
        const auto second = path.find('/', 1);
        const std::string app = path.substr(1, second == std::string::npos ? std::string::npos : second - 1);
        if (app != "noop" && app != "echo" && app != "slow" && app != "ephemeral") {
            reply(TestResponse{404, "not found"});
            return;
        }
        account(app, req);
        if (app == "echo") {
            TestResponse r;
            r.content_type = "application/json";
            r.body = "{\"length\":" + std::to_string(req.body.size()) + "}";
            reply(std::move(r));
        } else if (app == "slow") {
            const auto q = req.target.find("ms=");
            const int ms = q == std::string::npos ? 0 : std::stoi(req.target.substr(q + 3));
            auto timer = std::make_shared<boost::asio::steady_timer>(server->io(), std::chrono::milliseconds(ms));
            timer->async_wait([timer, reply](boost::system::error_code) { reply(TestResponse{200, "waited"}); });
        } else {
            reply(TestResponse{200, "Hello"});
        }
    }

    void account(const std::string& app, const TestRequest& req) {
        std::lock_guard lock(mu);
        if (app == "ephemeral" || warm.count(app) == 0) {
            ++misses;
            ++created;
            if (app != "ephemeral") warm.insert(app);
        } else {
            ++hits;
        }
        const double n = static_cast<double>(ipc.messages_to_worker);
        ipc.ring_ns_per_request_in = (ipc.ring_ns_per_request_in * n + 1000.0) / (n + 1);
        ipc.ring_ns_per_request_out = (ipc.ring_ns_per_request_out * n + 2000.0) / (n + 1);
        ipc.app_ns_per_request = (ipc.app_ns_per_request * n + 500.0) / (n + 1);
        ++ipc.messages_to_worker;
        ++ipc.messages_to_supervisor;
        ipc.bytes_to_worker += req.target.size() + req.body.size();
        ipc.bytes_to_supervisor += 16;
        ++ipc.wakeups;
    }

    nlohmann::json metrics() const {
        std::lock_guard lock(mu);
        const double total = static_cast<double>(hits + misses);
        return {{"activeWorkers", warm.size()},
                {"hitRate", total > 0 ? 100.0 * static_cast<double>(hits) / total : 0.0},
                {"hits", hits},
                {"misses", misses},
                {"totalWorkersCreated", created},
                {"totalWorkersFailed", 0},
                {"memoryUsageMB", 1.5},
                {"supervisorRssBytes", 4 * 1024 * 1024},
                {"workerRssBytes", 8 * 1024 * 1024},
                {"poolSize", options.pool_size}};
    }
};

SupervisorConfig embeddedConfig() {
    SupervisorConfig c;
    c.port = 0;
    c.bind = "127.0.0.1";
    c.access_log = "off";
    return c;
}

Runtime::Runtime(SupervisorConfig options) : impl_(std::make_unique<Impl>()) { impl_->options = std::move(options); }

Runtime::~Runtime() { stop(); }

base::Expected<void, std::string> Runtime::start() {
    // Like the real runtime, refuse to start without the fixture apps in the worker dirs.
    namespace fs = std::filesystem;
    for (const char* app : {"noop", "echo", "slow", "ephemeral"}) {
        bool found = false;
        for (const auto& dir : impl_->options.worker_dirs)
            found = found ||
                    (fs::exists(fs::path(dir) / app / "manifest.yaml") && fs::exists(fs::path(dir) / app / "app.so"));
        if (!found) return std::string("fake runtime: app ") + app + " not found in worker dirs";
    }
    try {
        Impl* impl = impl_.get();
        impl_->server = std::make_unique<TestServer>(
            [impl](const TestRequest& req, std::function<void(TestResponse)> reply) { impl->route(req, reply); },
            impl_->options.port);
    } catch (const std::exception& e) {
        return std::string(e.what());
    }
    return {};
}

std::uint16_t Runtime::port() const { return impl_->server ? impl_->server->port() : 0; }

void Runtime::stop() {
    if (impl_->server) impl_->server->stop();
}

void Runtime::direct(DirectRequest request, std::function<void(DirectResponse)> done) {
    Impl* impl = impl_.get();
    boost::asio::post(impl->server->io(), [impl, request = std::move(request), done = std::move(done)] {
        TestRequest req{request.method, request.target, {}, request.body};
        for (const auto& [k, v] : request.headers) req.headers[k] = v;
        impl->route(req, [done](TestResponse r) {
            DirectResponse out;
            out.status = r.status;
            out.headers.emplace_back("content-type", r.content_type);
            out.body = std::move(r.body);
            done(std::move(out));
        });
    });
}

nlohmann::json Runtime::metrics() const { return impl_->metrics(); }

IpcCounters Runtime::ipcCounters() const {
    std::lock_guard lock(impl_->mu);
    return impl_->ipc;
}

}  // namespace buntime::supervisor
