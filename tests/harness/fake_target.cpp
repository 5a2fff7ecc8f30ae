// SPDX-License-Identifier: MIT
// The fake supervisor runtime and target of the harness tests.
#include "fake_target.h"

#include "golden.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>

namespace buntime::harness::test {
namespace {

// Per-request times the fake reports: they differ by app and vary from request to request,
// so only a runner that takes each scenario's window of the counters gets the means right.
struct Times {
    double ring_in_ns, ring_out_ns, app_ns;
};

Times timesFor(const std::string& app, std::uint64_t n, const std::string& target) {
    const double wobble = static_cast<double>(n % 7) * 37.0;
    if (app == "echo") return {3000 + wobble, 4200 + 2 * wobble, 800 + wobble};
    if (app == "slow") {
        const auto q = target.find("ms=");
        const double ms = q == std::string::npos ? 0 : std::stod(target.substr(q + 3));
        return {1500 + wobble, 2500 + wobble, ms * 1e6 + wobble};
    }
    if (app == "ephemeral") return {2500 + wobble, 3100 + wobble, 700 + 3 * wobble};
    return {1000 + wobble, 2000 + wobble, 500 + wobble};  // noop
}

template <typename T>
T golden(std::string_view name) {
    return buntime::test::golden::json(name).get<T>();
}

}  // namespace

base::Expected<std::shared_ptr<FakeRuntime>, std::string> FakeRuntime::start(const std::string& fixtures_dir,
                                                                             std::uint16_t port,
                                                                             std::size_t pool_size) {
    namespace fs = std::filesystem;
    for (const char* app : {"noop", "echo", "slow", "ephemeral"}) {
        if (!fs::exists(fs::path(fixtures_dir) / app / "manifest.yaml") ||
            !fs::exists(fs::path(fixtures_dir) / app / "app.so"))
            return std::string("fake runtime: app ") + app + " not found in " + fixtures_dir;
    }
    std::shared_ptr<FakeRuntime> runtime(new FakeRuntime(pool_size));
    try {
        FakeRuntime* self = runtime.get();
        runtime->server_ = std::make_unique<TestServer>(
            [self](const TestRequest& req, std::function<void(TestResponse)> reply) { self->route(req, reply); }, port);
    } catch (const std::exception& e) {
        return std::string(e.what());
    }
    return runtime;
}

FakeRuntime::FakeRuntime(std::size_t pool_size) : pool_size_(pool_size), admin_api_(*this, "") {}

FakeRuntime::~FakeRuntime() {
    if (server_) server_->stop();
}

void FakeRuntime::route(const TestRequest& req, const std::function<void(TestResponse)>& reply) {
    const std::string path = req.target.substr(0, req.target.find('?'));
    if (admin::AdminApi::isAdminPath(req.target)) {
        const auto auth = req.headers.find("authorization");
        const admin::Reply r =
            admin_api_.handle({req.method, path, auth == req.headers.end() ? nullptr : &auth->second, false, {}});
        TestResponse out{static_cast<int>(r.status), r.body};
        out.content_type = r.content_type;
        reply(std::move(out));
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
        auto timer = std::make_shared<boost::asio::steady_timer>(server_->io(), std::chrono::milliseconds(ms));
        timer->async_wait([timer, reply](boost::system::error_code) { reply(TestResponse{200, "waited"}); });
    } else {
        reply(TestResponse{200, "Hello"});
    }
}

void FakeRuntime::account(const std::string& app, const TestRequest& req) {
    std::lock_guard lock(mu_);
    if (app == "ephemeral" || warm_.count(app) == 0) {
        ++misses_;
        ++created_;
        if (app != "ephemeral") warm_.insert(app);
    } else {
        ++hits_;
    }
    auto& c = now_.counters;
    const Times t = timesFor(app, c.messages_to_worker, req.target);
    now_.ring_in_ns_sum += t.ring_in_ns;
    now_.ring_out_ns_sum += t.ring_out_ns;
    now_.app_ns_sum += t.app_ns;
    ++c.messages_to_worker;
    ++c.messages_to_supervisor;
    c.bytes_to_worker += req.target.size() + req.body.size();
    c.bytes_to_supervisor += 16;
    c.wakeups += 1 + c.messages_to_worker % 2;
    c.spin_hits += c.messages_to_worker % 3;
    // Running means, as the supervisor reports them.
    const double n = static_cast<double>(c.messages_to_worker);
    c.ring_ns_per_request_in = now_.ring_in_ns_sum / n;
    c.ring_ns_per_request_out = now_.ring_out_ns_sum / n;
    c.app_ns_per_request = now_.app_ns_sum / n;
}

void FakeRuntime::direct(supervisor::DirectRequest request, DirectDone done) {
    boost::asio::post(server_->io(), [this, request = std::move(request), done = std::move(done)] {
        TestRequest req{request.method, request.target, {}, request.body};
        for (const auto& [k, v] : request.headers) req.headers[k] = v;
        route(req, [done](TestResponse r) {
            supervisor::DirectResponse out;
            out.status = r.status;
            out.headers.emplace_back("content-type", r.content_type);
            out.body = std::move(r.body);
            done(std::move(out));
        });
    });
}

supervisor::IpcCounters FakeRuntime::ipcCounters() {
    std::lock_guard lock(mu_);
    snapshots_.push_back(now_);
    return now_.counters;
}

std::vector<FakeRuntime::Snapshot> FakeRuntime::snapshots() const {
    std::lock_guard lock(mu_);
    return snapshots_;
}

admin::HealthView FakeRuntime::health() { return golden<admin::HealthView>("health"); }

admin::MetricsView FakeRuntime::metrics() {
    auto m = golden<admin::MetricsView>("metrics");
    std::lock_guard lock(mu_);
    const double total = static_cast<double>(hits_ + misses_);
    m.active_workers = warm_.size();
    m.hit_rate = total > 0 ? 100.0 * static_cast<double>(hits_) / total : 0.0;
    m.hits = hits_;
    m.misses = misses_;
    m.total_requests = hits_ + misses_;
    m.total_workers_created = created_;
    m.pool_size = pool_size_;
    return m;
}

std::vector<admin::WorkerRow> FakeRuntime::workers() { return golden<admin::WorkersReply>("workers").workers; }
std::vector<admin::AppRow> FakeRuntime::apps() { return golden<admin::AppsReply>("apps").apps; }

FakeTarget::FakeTarget(std::shared_ptr<FakeRuntime> runtime, Mode mode) : runtime_(std::move(runtime)), mode_(mode) {}

ScenarioResult FakeTarget::run(const Scenario& scenario, const LoadParams& params) {
    if (mode_ == Mode::Direct) {
        FakeRuntime* runtime = runtime_.get();
        return runDirectLoad([runtime](supervisor::DirectRequest request,
                                       DirectDone done) { runtime->direct(std::move(request), std::move(done)); },
                             scenario, params);
    }
    return runHttpLoad(runtime_->endpoint(), scenario, params);
}

std::optional<admin::MetricsView> FakeTarget::metrics() { return runtime_->metrics(); }
std::optional<supervisor::IpcCounters> FakeTarget::ipcCounters() { return runtime_->ipcCounters(); }

StartTarget fakeStart(std::shared_ptr<FakeRuntime>* started) {
    return [started](const PerfConfig& config,
                     const std::string& fixtures_dir) -> base::Expected<std::unique_ptr<Target>, std::string> {
        auto runtime = FakeRuntime::start(fixtures_dir, config.mode == Mode::Http ? config.port : 0, config.pool_size);
        if (!runtime) return runtime.error();
        if (started) *started = runtime.value();
        return std::unique_ptr<Target>(std::make_unique<FakeTarget>(runtime.value(), config.mode));
    };
}

}  // namespace buntime::harness::test
