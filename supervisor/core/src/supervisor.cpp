// SPDX-License-Identifier: MIT
// The dispatcher: HTTP exchange → router → pool → worker process and its shm rings → response.
#include "buntime/supervisor/supervisor.h"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <filesystem>
#include <future>
#include <unordered_map>
#include <unordered_set>

#include "build_info.h"
#include "buntime/admin/prometheus.h"
#include "buntime/base/clock.h"
#include "buntime/http/server.h"
#include "buntime/ipc/worker_link.h"
#include "buntime/pool/worker_pool.h"
#include "buntime/proc/exit_watcher.h"
#include "buntime/proc/process.h"
#include "buntime/proc/rss.h"
#include "buntime/proc/state_dir.h"
#include "buntime/proc/systemd.h"
#include "buntime/proto/launch.h"
#include "buntime/proto/messages.h"
#include "buntime/router/env_filter.h"
#include "buntime/router/json.h"
#include "buntime/router/router.h"
#include "buntime/shm/channel.h"
#include "buntime/supervisor/log.h"

namespace buntime::supervisor {
namespace asio = boost::asio;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kPendingSendLimit = 1 << 20;      // request bytes queued per worker before reading pauses
constexpr std::size_t kClientBacklogLimit = 1 << 20;    // response bytes queued per client before the ring pauses
constexpr std::size_t kSingleFrameBody = 64 * 1024;     // bodies read whole and sent with the head
constexpr std::chrono::milliseconds kTickInterval{50};  // request deadlines and pool health checks

std::span<const std::byte> bytesOf(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string errorBody(std::string_view code, std::string_view message) {
    return json{{"error", code}, {"message", message}}.dump();
}

http::Headers jsonHeaders() { return {{"content-type", "application/json"}}; }

double msSince(Clock::time_point start, Clock::time_point now) {
    return std::chrono::duration<double, std::milli>(now - start).count();
}

std::string defaultWorkerBinary() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "buntime-worker";
    auto dir = self.parent_path();
    // Installed side by side, or the build tree (build/supervisor/core/buntime, build/worker/...).
    for (auto candidate : {dir / "buntime-worker", dir.parent_path() / "worker" / "buntime-worker",
                           dir.parent_path().parent_path() / "worker" / "buntime-worker"}) {
        if (std::filesystem::exists(candidate, ec)) return candidate.string();
    }
    return (dir / "buntime-worker").string();
}

}  // namespace

// --- one request -----------------------------------------------------------------------

struct Call {
    std::uint64_t id = 0;
    std::shared_ptr<Client> client;
    router::ResolvedApp app;
    std::shared_ptr<const router::Manifest> manifest;
    router::ParsedTarget target;
    pool::WorkerId worker = 0;
    bool ephemeral = false;
    bool gate_admitted = false;
    bool parked = false;
    bool response_started = false;
    bool done = false;
    bool body_sent = false;
    Clock::time_point started;
    Clock::time_point deadline;      // checked by the tick; a timer per request costs more than the sweep
    std::size_t client_backlog = 0;  // response bytes handed to the client, not yet written
    bool pausing_link = false;
    std::uint64_t sent_ns = 0;
};

// --- one worker process ---------------------------------------------------------------------

struct Worker {
    pool::WorkerId id = 0;
    std::string key;
    router::ResolvedApp app;
    std::shared_ptr<const router::Manifest> manifest;
    bool ephemeral = false;
    bool ready = false;
    bool exited = false;
    bool terminate_sent = false;
    std::uint32_t generation = 0;
    std::string failure;  // InitFailed reason or protocol error
    proc::Process process;
    proc::ExitWatcher watcher;
    std::unique_ptr<ipc::WorkerLink> link;
    std::unordered_set<std::uint64_t> in_flight;
    std::uint64_t ephemeral_call = 0;
    Clock::time_point spawned;
    // Ring counters survive the worker for the harness's IPC totals.
};

struct IpcTotals {
    std::uint64_t messages_to_worker = 0, messages_to_supervisor = 0, bytes_to_worker = 0, bytes_to_supervisor = 0;
    std::uint64_t wakeups = 0, spin_hits = 0, sleeps = 0, full_stalls = 0;
    double ring_in_ns = 0, ring_out_ns = 0, app_ns = 0;
    std::uint64_t timed = 0;
};

// --- HTTP adapter ---------------------------------------------------------------------------

class HttpClient final : public Client {
public:
    HttpClient(std::shared_ptr<http::Exchange> exchange, asio::io_context& core)
        : exchange_(std::move(exchange)), core_(core) {}

    const http::RequestHead& head() const override { return exchange_->head(); }
    void setBodyLimit(std::uint64_t limit) override { exchange_->setBodyLimit(limit); }
    void readBody(http::BodyCallback cb) override {
        exchange_->readBody([this_core = &core_, cb = std::move(cb)](const http::BodyEvent& ev) {
            if (this_core->get_executor().running_in_this_thread()) {
                cb(ev);
                return;
            }
            std::string copy(reinterpret_cast<const char*>(ev.data.data()), ev.data.size());
            asio::post(*this_core, [cb, status = ev.status, copy = std::move(copy)] {
                cb(http::BodyEvent{status, bytesOf(copy)});
            });
        });
    }
    void respond(unsigned status, http::Headers headers, std::string body) override {
        exchange_->respond(status, std::move(headers), std::move(body));
    }
    void startResponse(unsigned status, http::Headers headers, std::optional<std::uint64_t> length) override {
        exchange_->startResponse(status, std::move(headers), length);
    }
    void writeBody(std::string data, http::WriteCallback done) override {
        exchange_->writeBodyCopy(std::move(data), onCore(std::move(done)));
    }
    void endResponse() override { exchange_->endResponse(); }
    void onClientGone(std::function<void()> cb) override {
        exchange_->onClientGone([this_core = &core_, cb = std::move(cb)] { asio::post(*this_core, cb); });
    }
    void abort() override { exchange_->abort(); }
    void setLogFields(std::string app, int pid) override { exchange_->setLogFields(std::move(app), pid); }

private:
    http::WriteCallback onCore(http::WriteCallback done) {
        if (!done) return {};
        return [this_core = &core_, done = std::move(done)](bool ok) {
            if (this_core->get_executor().running_in_this_thread())
                done(ok);
            else
                asio::post(*this_core, [done, ok] { done(ok); });
        };
    }
    std::shared_ptr<http::Exchange> exchange_;
    asio::io_context& core_;
};

// --- the implementation ---------------------------------------------------------------------

struct Supervisor::Impl {
    Impl(SupervisorConfig c, std::vector<std::string> env);

    // lifecycle
    std::string start(bool handle_signals);
    void shutdown();
    void finishShutdown();
    void waitForWorkersThenStop(Clock::time_point deadline);
    void reload();

    // requests
    void accept(std::shared_ptr<Client> client);
    void serveAdmin(const std::shared_ptr<Client>& client, std::string_view path);
    void dispatch(const std::shared_ptr<Call>& call);
    void sendToWorker(const std::shared_ptr<Call>& call, Worker& w);
    void streamBody(const std::shared_ptr<Call>& call);
    void fail(const std::shared_ptr<Call>& call, unsigned status, std::string_view code, std::string_view message,
              pool::Outcome outcome);
    void finish(const std::shared_ptr<Call>& call, pool::Outcome outcome);
    void onDeadline(std::uint64_t call_id);
    void onClientGone(std::uint64_t call_id);

    // workers
    // `ephemeral_call` is the one request an ephemeral worker serves (0 for pooled workers).
    bool spawnWorker(pool::WorkerId id, const router::ResolvedApp& app,
                     std::shared_ptr<const router::Manifest> manifest, std::uint64_t ephemeral_call);
    void onFrame(pool::WorkerId id, const shm::FrameView& frame);
    void onResponseHead(Worker& w, const std::shared_ptr<Call>& call, const shm::FrameView& frame);
    void onResponseBody(Worker& w, const std::shared_ptr<Call>& call, const shm::FrameView& frame);
    void onWorkerExit(pool::WorkerId id, proc::ExitStatus status);
    void onWorkerBroken(pool::WorkerId id, std::string reason);
    void sendControl(Worker& w, proto::Kind kind, std::uint64_t request_id = 0, std::string head = {});
    void terminateWorker(Worker& w, std::chrono::milliseconds grace);
    void startEphemeral(const std::shared_ptr<Call>& call);
    void apply(pool::Effects effects);
    void accumulateRingCounters(Worker& w);
    void tick();
    void scheduleTick();
    void notifyStatus();
    void waitSignal();
    void pingWatchdog(Clock::duration period);

    // views
    json metrics();
    json workers();
    json apps();
    json health();
    IpcCounters ipc();

    Worker* worker(pool::WorkerId id) {
        auto it = workers_.find(id);
        return it == workers_.end() ? nullptr : it->second.get();
    }
    std::shared_ptr<Call> call(std::uint64_t id) {
        auto it = calls_.find(id);
        return it == calls_.end() ? nullptr : it->second;
    }
    template <typename F>
    auto onCore(F&& f) -> decltype(f()) {
        auto& io = server_->ioContext(0);
        if (io.get_executor().running_in_this_thread() || !running_) return f();
        std::packaged_task<decltype(f())()> task(std::forward<F>(f));
        auto future = task.get_future();
        asio::post(io, [&task] { task(); });
        return future.get();
    }

    SupervisorConfig config_;
    std::vector<std::string> environment_;
    std::string worker_binary_;
    std::unique_ptr<http::Server> server_;
    router::Router router_;
    pool::WorkerPool pool_;
    std::unordered_map<pool::WorkerId, std::unique_ptr<Worker>> workers_;
    std::unordered_map<std::uint64_t, std::shared_ptr<Call>> calls_;
    // What a replacement spawn for a key needs (the pool names only the key).
    std::unordered_map<std::string, std::pair<router::ResolvedApp, std::shared_ptr<const router::Manifest>>> key_apps_;
    std::unordered_set<std::string> warned_env_keys_;
    std::uint64_t next_call_id_ = 1;
    std::uint32_t next_generation_ = 1;
    Clock::time_point started_at_ = Clock::now();
    std::unique_ptr<asio::steady_timer> tick_timer_;
    std::unique_ptr<asio::steady_timer> status_timer_;
    std::unique_ptr<asio::steady_timer> watchdog_timer_;
    std::unique_ptr<asio::signal_set> signals_;
    std::optional<proc::StateDirLock> state_lock_;
    std::atomic<bool> running_{false};
    bool shutting_down_ = false;
    Clock::time_point shutdown_deadline_;
    std::string listen_;
    IpcTotals ipc_totals_;
    std::vector<std::uint64_t> expired_;  // scratch for tick()
};

Supervisor::Impl::Impl(SupervisorConfig c, std::vector<std::string> env)
    : config_(std::move(c)),
      environment_(std::move(env)),
      router_([&] {
          router::RouterOptions o;
          for (auto& d : config_.worker_dirs) o.roots.emplace_back(d);
          o.config_cache_ttl = config_.config_cache_ttl;
          o.resolver_cache_ttl = config_.resolver_cache_ttl;
          return o;
      }()),
      pool_(
          [&] {
              pool::PoolConfig p;
              p.capacity = config_.pool_size;
              p.ephemeral_concurrency = config_.ephemeral_concurrency;
              p.ephemeral_queue_limit = config_.ephemeral_queue_limit;
              p.terminate_grace = config_.terminate_grace;
              return p;
          }(),
          Clock::now()) {
    setLogLevel(config_.log_level);
    worker_binary_ = config_.worker_binary.empty() ? defaultWorkerBinary() : config_.worker_binary;
    // Workers never see the supervisor's own channel or socket-activation variables.
    std::erase_if(environment_, [](const std::string& e) {
        return e.rfind("LISTEN_", 0) == 0 || e.rfind("NOTIFY_SOCKET=", 0) == 0 || e.rfind("WATCHDOG_", 0) == 0 ||
               e.rfind(std::string(proto::kChannelEnv) + "=", 0) == 0;
    });
}

std::string Supervisor::Impl::start(bool handle_signals) {
    if (!config_.state_dir.empty()) {
        auto lock = proc::acquireStateDir(config_.state_dir);
        if (!lock) return lock.error().message;
        state_lock_.emplace(std::move(lock.value()));
    }
    if (config_.worker_dirs.empty())
        logWarn("supervisor", "RUNTIME_WORKER_DIRS is empty: every app request will answer 404");

    http::ServerConfig sc;
    sc.bind_address = config_.bind;
    sc.port = config_.port;
    sc.unix_socket_path = config_.unix_socket;
    sc.admin_socket_path = config_.admin_socket;
    sc.inherited_fds = proc::listenFds();
    sc.listen_tcp = sc.inherited_fds.empty();
    sc.threads = config_.event_loops;
    sc.header_timeout = config_.header_timeout;
    sc.idle_timeout = config_.keepalive_timeout;
    sc.max_connections = config_.max_connections;
    sc.access_log = config_.access_log;
    server_ = std::make_unique<http::Server>(sc, [this](std::shared_ptr<http::Exchange> ex) {
        auto& core = server_->ioContext(0);
        auto client = std::make_shared<HttpClient>(std::move(ex), core);
        if (core.get_executor().running_in_this_thread())
            accept(std::move(client));
        else
            asio::post(core, [this, client] { accept(client); });
    });
    auto started = server_->start();
    if (!started) return started.error().message;
    listen_ = sc.inherited_fds.empty() ? config_.bind + ":" + std::to_string(server_->port())
                                       : "systemd socket (" + std::to_string(sc.inherited_fds.size()) + " fd)";

    auto& io = server_->ioContext(0);
    tick_timer_ = std::make_unique<asio::steady_timer>(io);
    status_timer_ = std::make_unique<asio::steady_timer>(io);
    scheduleTick();
    if (handle_signals) {
        signals_ = std::make_unique<asio::signal_set>(io, SIGTERM, SIGINT, SIGHUP);
        waitSignal();
    }
    running_ = true;
    logInfo("supervisor", "listening on " + listen_ + " (worker binary " + worker_binary_ + ", pool " +
                              std::to_string(config_.pool_size) + ")");
    proc::notify("READY=1\nSTATUS=serving, 0 workers\nMAINPID=" + std::to_string(::getpid()));
    notifyStatus();
    if (auto wd = proc::watchdogInterval()) {
        watchdog_timer_ = std::make_unique<asio::steady_timer>(io);
        pingWatchdog(std::chrono::duration_cast<Clock::duration>(*wd / 2));
    }
    return {};
}

void Supervisor::Impl::pingWatchdog(Clock::duration period) {
    proc::notify("WATCHDOG=1");
    watchdog_timer_->expires_after(period);
    watchdog_timer_->async_wait([this, period](boost::system::error_code ec) {
        if (!ec) pingWatchdog(period);
    });
}

void Supervisor::Impl::waitSignal() {
    signals_->async_wait([this](boost::system::error_code ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            reload();
        } else {
            logInfo("supervisor", std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": draining");
            shutdown();
        }
        waitSignal();
    });
}

void Supervisor::Impl::notifyStatus() {
    if (shutting_down_) return;
    auto m = pool_.metrics(Clock::now());
    char buf[160];
    std::snprintf(buf, sizeof buf, "STATUS=serving, %" PRIu64 " workers, %.1f req/s", m.active_workers,
                  m.requests_per_second);
    proc::notify(buf);
    status_timer_->expires_after(std::chrono::seconds(5));
    status_timer_->async_wait([this](boost::system::error_code ec) {
        if (!ec) notifyStatus();
    });
}

void Supervisor::Impl::scheduleTick() {
    if (!running_ && shutting_down_) return;
    tick_timer_->expires_after(kTickInterval);
    tick_timer_->async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        tick();
        scheduleTick();
    });
}

void Supervisor::Impl::tick() {
    auto now = Clock::now();
    expired_.clear();
    for (const auto& [id, c] : calls_)
        if (c->deadline <= now) expired_.push_back(id);
    for (auto id : expired_) onDeadline(id);
    if (auto next = pool_.nextCheckAt(); next && *next <= now) apply(pool_.tick(now));
    if (shutting_down_) {
        bool requests_done = calls_.empty() && server_->activeExchanges() == 0;
        if (requests_done || now >= shutdown_deadline_) finishShutdown();
    }
}

// --- requests ---------------------------------------------------------------------------

void Supervisor::Impl::accept(std::shared_ptr<Client> client) {
    const auto& head = client->head();
    auto target = router::parseTarget(head.target);
    switch (target.kind) {
    case router::TargetKind::Reserved:
        if (head.target.rfind("/_/", 0) == 0 || head.target == "/_") {
            serveAdmin(client, head.path());
        } else {
            client->respond(404, jsonHeaders(), errorBody("NOT_FOUND", "reserved path"));
        }
        return;
    case router::TargetKind::BadRequest:
        client->respond(400, jsonHeaders(), errorBody("BAD_REQUEST", target.error));
        return;
    case router::TargetKind::NotFound:
        client->respond(404, jsonHeaders(), errorBody("NOT_FOUND", "no app named in the path; use /<app>/..."));
        return;
    case router::TargetKind::App: break;
    }
    if (shutting_down_) {
        client->respond(503, {{"content-type", "application/json"}, {"retry-after", "1"}},
                        errorBody("SHUTTING_DOWN", "the supervisor is shutting down"));
        return;
    }
    auto now = Clock::now();
    auto resolved = router_.resolve(target.app, target.range, now);
    if (!resolved) {
        const auto& err = resolved.error();
        bool not_found = err.code == router::ErrorCode::NotFound || err.code == router::ErrorCode::NoMatch;
        bool bad = err.code == router::ErrorCode::InvalidName || err.code == router::ErrorCode::InvalidValue;
        if (!not_found && !bad) logError("router", err.message);
        client->respond(not_found ? 404
                        : bad     ? 400
                                  : 500,
                        jsonHeaders(),
                        errorBody(not_found ? "APP_NOT_FOUND"
                                  : bad     ? "BAD_REQUEST"
                                            : "APP_CONFIG_ERROR",
                                  err.message));
        return;
    }
    auto manifest = router_.config(resolved->dir, now);
    if (!manifest) {
        logError("router", manifest.error().message);
        client->respond(500, jsonHeaders(), errorBody("APP_CONFIG_ERROR", manifest.error().message));
        return;
    }

    const auto max_body = manifest.value()->config.max_body_size;
    client->setBodyLimit(max_body);
    if (client->head().content_length && *client->head().content_length > max_body) return;  // 413 already sent

    auto call = std::make_shared<Call>();
    call->id = next_call_id_++;
    call->client = std::move(client);
    call->app = std::move(resolved.value());
    call->manifest = std::move(manifest.value());
    call->target = std::move(target);
    call->started = now;
    call->ephemeral = call->manifest->config.ephemeral();
    call->client->setLogFields(call->app.key, 0);
    calls_.emplace(call->id, call);

    call->deadline = now + call->manifest->config.timeout;
    call->client->onClientGone([this, id = call->id] { onClientGone(id); });
    dispatch(call);
}

void Supervisor::Impl::dispatch(const std::shared_ptr<Call>& call) {
    auto now = Clock::now();
    if (call->ephemeral) {
        switch (pool_.ephemeralGate().tryEnter(call->id)) {
        case pool::GateDecision::Admitted:
            call->gate_admitted = true;
            startEphemeral(call);
            return;
        case pool::GateDecision::Queued: call->parked = true; return;
        case pool::GateDecision::Rejected: {
            call->done = true;
            calls_.erase(call->id);
            auto& gate = pool_.ephemeralGate();
            call->client->respond(503, {{"content-type", "application/json"}, {"retry-after", "1"}},
                                  json{{"error", "EPHEMERAL_WORKER_QUEUE_SATURATED"},
                                       {"message", "ephemeral queue is full (" + std::to_string(gate.queueDepth()) +
                                                       "/" + std::to_string(gate.queueLimit()) + " waiting, " +
                                                       std::to_string(gate.concurrency()) + " running); retry later"}}
                                      .dump());
            return;
        }
        }
        return;
    }
    const auto& cfg = call->manifest->config;
    pool::WorkerPolicy policy;
    policy.ttl = cfg.ttl;
    policy.idle_timeout = cfg.idle_timeout;
    policy.timeout = cfg.timeout;
    policy.max_requests = cfg.max_requests;
    policy.concurrency = cfg.concurrency;
    key_apps_[call->app.key] = {call->app, call->manifest};
    auto result = pool_.acquire(call->app.key, policy, call->id, now);
    auto kind = result.kind;
    auto wid = result.worker;
    apply(std::move(result.effects));
    switch (kind) {
    case pool::AcquireKind::Use:
        if (auto* w = worker(wid))
            sendToWorker(call, *w);
        else
            fail(call, 502, "WORKER_UNAVAILABLE", "worker vanished before the request was sent", pool::Outcome::Crash);
        return;
    case pool::AcquireKind::Spawn:
    case pool::AcquireKind::Wait:
        if (!call->done) call->parked = true;
        return;
    case pool::AcquireKind::Rejected:
        call->worker = 0;
        fail(call, 503, "WORKER_QUEUE_FULL", "too many requests waiting for " + call->app.key, pool::Outcome::Ok);
        return;
    }
}

void Supervisor::Impl::startEphemeral(const std::shared_ptr<Call>& call) {
    auto id = pool_.onEphemeralStart(call->app.key, Clock::now());
    call->worker = id;
    if (!spawnWorker(id, call->app, call->manifest, call->id))
        fail(call, 503, "WORKER_SPAWN_FAILED", "could not start a worker for " + call->app.key, pool::Outcome::Crash);
}

void Supervisor::Impl::sendToWorker(const std::shared_ptr<Call>& call, Worker& w) {
    call->parked = false;
    call->worker = w.id;
    w.in_flight.insert(call->id);
    call->client->setLogFields(w.key, w.process.pid());

    const auto& head = call->client->head();
    proto::RequestHead rh;
    rh.method = head.method;
    rh.target = head.target;
    rh.path = call->target.rest;
    rh.query = call->target.query;
    rh.base = call->target.base;
    rh.request_id = head.request_id;
    rh.headers.reserve(head.headers.size() + 2);
    for (const auto& [k, v] : head.headers) {
        if (k.size() == 6 && strncasecmp(k.c_str(), "x-base", 6) == 0) continue;  // ours only, never the client's
        if (k.size() == 12 && strncasecmp(k.c_str(), "x-request-id", 12) == 0) continue;
        rh.headers.emplace_back(k, v);
    }
    rh.headers.emplace_back("x-base", call->target.base);
    rh.headers.emplace_back("x-request-id", head.request_id);
    rh.content_length = head.content_length ? static_cast<std::int64_t>(*head.content_length) : (head.chunked ? -1 : 0);
    rh.sent_ns = base::monotonicNs();
    call->sent_ns = rh.sent_ns;
    auto encoded = proto::encode(rh);

    const bool has_body = head.chunked || (head.content_length && *head.content_length > 0);
    if (!has_body) {
        call->body_sent = true;
        w.link->send({static_cast<std::uint16_t>(proto::Kind::Request), 0, call->id, encoded, {}});
        return;
    }
    const bool small = !head.chunked && *head.content_length <= kSingleFrameBody;
    if (!small) {
        w.link->send({static_cast<std::uint16_t>(proto::Kind::Request), shm::kFlagMore, call->id, encoded, {}});
        streamBody(call);
        return;
    }
    // A small body is read whole and travels in the request's first frame.
    auto body = std::make_shared<std::string>();
    body->reserve(*head.content_length);
    auto encoded_ptr = std::make_shared<std::vector<std::byte>>(std::move(encoded));
    auto step = std::make_shared<std::function<void(const http::BodyEvent&)>>();
    *step = [this, call, body, encoded_ptr, step](const http::BodyEvent& ev) {
        if (call->done) {
            *step = nullptr;
            return;
        }
        if (ev.status == http::BodyStatus::Data) {
            body->append(reinterpret_cast<const char*>(ev.data.data()), ev.data.size());
            call->client->readBody(*step);
            return;
        }
        auto fn = std::move(*step);  // break the self-reference
        if (ev.status != http::BodyStatus::End) {
            finish(call, pool::Outcome::Ok);  // the HTTP layer already answered (400/413) or the client left
            return;
        }
        auto* w2 = worker(call->worker);
        if (!w2) return;
        call->body_sent = true;
        w2->link->send({static_cast<std::uint16_t>(proto::Kind::Request), 0, call->id, *encoded_ptr, bytesOf(*body)});
    };
    call->client->readBody(*step);
}

void Supervisor::Impl::streamBody(const std::shared_ptr<Call>& call) {
    if (call->done) return;
    call->client->readBody([this, call](const http::BodyEvent& ev) {
        if (call->done) return;
        auto* w = worker(call->worker);
        if (!w) return;
        if (ev.status == http::BodyStatus::Data) {
            w->link->send({shm::kContinuationKind, shm::kFlagMore, call->id, {}, ev.data});
            if (w->link->pendingBytes() > kPendingSendLimit) {
                // The worker reads slower than the client sends: stop reading the socket.
                w->link->whenDrained([this, call] { streamBody(call); });
            } else {
                streamBody(call);
            }
            return;
        }
        if (ev.status == http::BodyStatus::End) {
            call->body_sent = true;
            w->link->send({shm::kContinuationKind, 0, call->id, {}, {}});
            return;
        }
        // 413 or a broken client: the HTTP layer answered or closed; tell the worker.
        sendControl(*w, proto::Kind::Cancel, call->id);
        w->in_flight.erase(call->id);
        finish(call, pool::Outcome::Ok);
    });
}

void Supervisor::Impl::fail(const std::shared_ptr<Call>& call, unsigned status, std::string_view code,
                            std::string_view message, pool::Outcome outcome) {
    if (call->done) return;
    if (call->response_started)
        call->client->abort();
    else
        call->client->respond(status, jsonHeaders(), errorBody(code, message));
    finish(call, outcome);
}

void Supervisor::Impl::finish(const std::shared_ptr<Call>& call, pool::Outcome outcome) {
    if (call->done) return;
    call->done = true;
    calls_.erase(call->id);
    auto now = Clock::now();
    double duration = msSince(call->started, now);
    Worker* w = worker(call->worker);
    if (w) {
        w->in_flight.erase(call->id);
        if (call->pausing_link) {
            call->pausing_link = false;
            w->link->resumeReading();
        }
    }
    if (call->ephemeral) {
        if (call->gate_admitted) {
            call->gate_admitted = false;
            if (call->worker) pool_.onEphemeralEnd(call->worker, now, duration, outcome);
            if (w) terminateWorker(*w, std::chrono::milliseconds(0));
            if (auto next = pool_.ephemeralGate().leave()) {
                if (auto next_call = this->call(*next)) {
                    next_call->gate_admitted = true;
                    next_call->parked = false;
                    startEphemeral(next_call);
                }
            }
        } else if (call->parked) {
            pool_.ephemeralGate().cancel(call->id);
        }
        return;
    }
    if (call->parked) {
        pool_.cancelWait(call->id);
        return;
    }
    if (call->worker) apply(pool_.onRequestEnd(call->worker, now, duration, outcome));
}

void Supervisor::Impl::onDeadline(std::uint64_t id) {
    auto c = call(id);
    if (!c || c->done) return;
    auto* w = worker(c->worker);
    std::string msg = "request to " + c->app.key + " exceeded its timeout of " +
                      std::to_string(c->manifest->config.timeout.count()) + " ms";
    logWarn("pool",
            msg + (w ? " (worker pid " + std::to_string(w->process.pid()) + ")" : " while waiting for a worker"));
    if (w && !c->parked) {
        if (c->ephemeral)
            w->process.kill();
        else
            sendControl(*w, proto::Kind::Cancel, c->id);
    }
    fail(c, 504, "GATEWAY_TIMEOUT", msg, c->parked ? pool::Outcome::Ok : pool::Outcome::Timeout);
}

void Supervisor::Impl::onClientGone(std::uint64_t id) {
    auto c = call(id);
    if (!c || c->done) return;
    if (auto* w = worker(c->worker); w && !c->parked) {
        if (c->ephemeral)
            w->process.kill();
        else
            sendControl(*w, proto::Kind::Cancel, c->id);  // a late answer is dropped as stale
    }
    finish(c, pool::Outcome::Ok);
}

// --- workers ----------------------------------------------------------------------------------

bool Supervisor::Impl::spawnWorker(pool::WorkerId id, const router::ResolvedApp& app,
                                   std::shared_ptr<const router::Manifest> manifest, std::uint64_t ephemeral_call) {
    const bool ephemeral = ephemeral_call != 0;
    const auto& cfg = manifest->config;
    shm::ChannelConfig cc;
    cc.ring_bytes = config_.ring_bytes;
    cc.generation = next_generation_++;
    cc.spin = config_.ring_spin;
    auto channel = shm::Channel::create(cc);
    if (!channel) {
        logError("ipc", "cannot create a channel for " + app.key + ": " + std::string(shm::toString(channel.error())));
        return false;
    }

    auto env = router::buildWorkerEnv(environment_, cfg.env);
    if (!env.dropped.empty() && warned_env_keys_.insert(app.key).second) {
        std::string names;
        for (auto& n : env.dropped) names += (names.empty() ? "" : ", ") + n;
        logWarn("supervisor", "not passing sensitive variables to " + app.key + ": " + names);
    }
    if (!env.sensitive_kept.empty() && warned_env_keys_.insert(app.key + "#kept").second) {
        std::string names;
        for (auto& n : env.sensitive_kept) names += (names.empty() ? "" : ", ") + n;
        logWarn("supervisor", app.key + " manifest env sets sensitive-looking variables (passed as asked): " + names);
    }
    if (ephemeral && config_.log_level != LogLevel::Debug) {
        // One process per request: its lifecycle lines would flood the journal; the supervisor
        // accounts for it (access log, metrics), so the worker only reports problems.
        std::erase_if(env.env, [](const std::string& e) { return e.rfind("RUNTIME_LOG_LEVEL=", 0) == 0; });
        env.env.push_back("RUNTIME_LOG_LEVEL=warn");
    }
    env.env.push_back(std::string(proto::kChannelEnv) + "=" + channel->fds().toString());

    proc::SpawnOptions so;
    so.executable = worker_binary_;
    so.argv = {worker_binary_,
               "--app-dir=" + app.dir.string(),
               "--name=" + app.name,
               "--version=" + app.version,
               "--threads=" + std::to_string(cfg.threads),
               "--concurrency=" + std::to_string(cfg.concurrency),
               "--max-body=" + std::to_string(cfg.max_body_size)};
    if (cfg.entrypoint) so.argv.push_back("--entrypoint=" + *cfg.entrypoint);
    if (cfg.inject_base) so.argv.push_back("--inject-base");
    so.envp = std::move(env.env);
    so.working_directory = app.dir.string();
    auto fds = channel->fds();
    so.pass_fds = {fds.segment, fds.to_worker_data, fds.to_worker_space, fds.to_supervisor_data,
                   fds.to_supervisor_space};
    so.rlimits.push_back({RLIMIT_CORE, 0, 0});
    if (cfg.low_memory) so.rlimits.push_back({RLIMIT_DATA, 256ull << 20, 256ull << 20});
    auto process = proc::Process::spawn(so);
    if (!process) {
        logError("proc", "cannot start worker for " + app.key + ": " + process.error().message);
        return false;
    }
    channel->setPeerPidfd(process->pidfd());

    auto w = std::make_unique<Worker>();
    w->id = id;
    w->key = app.key;
    w->app = app;
    w->manifest = std::move(manifest);
    w->ephemeral = ephemeral;
    w->ephemeral_call = ephemeral_call;
    w->generation = cc.generation;
    w->spawned = Clock::now();
    w->process = std::move(process.value());
    w->link = std::make_unique<ipc::WorkerLink>(server_->ioContext(0), std::move(channel.value()));
    auto* raw = w.get();
    workers_.emplace(id, std::move(w));
    raw->link->start(
        [this, id](const shm::FrameView& f) { onFrame(id, f); },
        [this, id](shm::Error e) { onWorkerBroken(id, "invalid frame: " + std::string(shm::toString(e))); });
    auto watcher = proc::ExitWatcher::watch(server_->ioContext(0), raw->process,
                                            [this, id](proc::ExitStatus st) { onWorkerExit(id, st); });
    if (!watcher) {
        logError("proc", "cannot watch worker " + app.key + ": " + watcher.error().message);
        raw->process.kill();
    } else {
        raw->watcher = std::move(watcher.value());
    }
    logDebug("proc", "spawned worker " + app.key + " pid=" + std::to_string(raw->process.pid()) +
                         (ephemeral ? " (ephemeral)" : ""));
    return true;
}

void Supervisor::Impl::sendControl(Worker& w, proto::Kind kind, std::uint64_t request_id, std::string head) {
    if (w.exited || !w.link) return;
    w.link->send({static_cast<std::uint16_t>(kind), 0, request_id, bytesOf(head), {}});
}

void Supervisor::Impl::terminateWorker(Worker& w, std::chrono::milliseconds grace) {
    if (w.terminate_sent || w.exited) return;
    w.terminate_sent = true;
    std::string g = std::to_string(grace.count());
    w.link->send({static_cast<std::uint16_t>(proto::Kind::Terminate), 0, 0, bytesOf(g), {}});
}

void Supervisor::Impl::onFrame(pool::WorkerId id, const shm::FrameView& frame) {
    Worker* w = worker(id);
    if (!w || w->exited) return;
    auto kind = frame.header.kind;
    if (kind == static_cast<std::uint16_t>(proto::Kind::Ready)) {
        if (w->ready) return;
        w->ready = true;
        logDebug("proc", "worker " + w->key + " pid=" + std::to_string(w->process.pid()) + " ready in " +
                             std::to_string(static_cast<long>(msSince(w->spawned, Clock::now()))) + " ms");
        if (w->ephemeral) {
            if (auto c = call(w->ephemeral_call); c && !c->done)
                sendToWorker(c, *w);
            else
                terminateWorker(*w, std::chrono::milliseconds(0));
        } else {
            apply(pool_.onReady(id, Clock::now()));
        }
        return;
    }
    if (kind == static_cast<std::uint16_t>(proto::Kind::InitFailed)) {
        w->failure.assign(reinterpret_cast<const char*>(frame.head.data()),
                          std::min<std::size_t>(frame.head.size(), 4096));
        logError("proc", "worker " + w->key + " failed to start: " + w->failure);
        return;  // the exit that follows fails the waiting requests with this reason
    }
    auto c = call(frame.header.request_id);
    if (!c || c->done || c->worker != id || !w->in_flight.count(c->id)) return;  // stale: cancelled or timed out
    if (kind == static_cast<std::uint16_t>(proto::Kind::Response)) {
        onResponseHead(*w, c, frame);
    } else if (kind == shm::kContinuationKind) {
        onResponseBody(*w, c, frame);
    } else if (kind == static_cast<std::uint16_t>(proto::Kind::Error)) {
        std::string reason(reinterpret_cast<const char*>(frame.head.data()),
                           std::min<std::size_t>(frame.head.size(), 4096));
        logWarn("worker", w->key + " request " + c->client->head().request_id + " failed: " + reason);
        fail(c, 500, "APP_ERROR", reason, pool::Outcome::AppError);
    } else {
        logWarn("ipc", "worker " + w->key + " sent an unknown frame kind " + std::to_string(kind) + "; dropped");
    }
}

void Supervisor::Impl::onResponseHead(Worker& w, const std::shared_ptr<Call>& c, const shm::FrameView& frame) {
    auto head = proto::decodeResponseHead(frame.head);
    if (!head) {
        logError("ipc", "worker " + w.key + " sent a malformed response head; retiring it");
        fail(c, 502, "BAD_WORKER_RESPONSE", "the worker sent a malformed response", pool::Outcome::AppError);
        apply(pool_.markUnhealthy(w.id, Clock::now()));
        return;
    }
    if (head->sent_ns && c->sent_ns && head->request_received_ns >= c->sent_ns) {
        auto now_ns = base::monotonicNs();
        ipc_totals_.ring_in_ns += static_cast<double>(head->request_received_ns - c->sent_ns);
        ipc_totals_.ring_out_ns += static_cast<double>(now_ns >= head->sent_ns ? now_ns - head->sent_ns : 0);
        ipc_totals_.app_ns += static_cast<double>(head->handler_ns);
        ++ipc_totals_.timed;
    }
    http::Headers headers;
    headers.reserve(head->headers.size());
    for (auto& h : head->headers) headers.emplace_back(std::move(h.first), std::move(h.second));
    c->response_started = true;
    const bool complete = !(frame.header.flags & shm::kFlagMore);
    if (complete && c->client->head().isHead() && head->content_length > 0 && frame.body.empty()) {
        // HEAD keeps the real length without a body.
        c->client->startResponse(head->status, std::move(headers), static_cast<std::uint64_t>(head->content_length));
        c->client->endResponse();
        finish(c, pool::Outcome::Ok);
        return;
    }
    if (complete) {
        std::string body(reinterpret_cast<const char*>(frame.body.data()), frame.body.size());
        c->client->respond(head->status, std::move(headers), std::move(body));
        finish(c, head->status >= 500 ? pool::Outcome::AppError : pool::Outcome::Ok);
        return;
    }
    std::optional<std::uint64_t> length;
    if (head->content_length >= 0) length = static_cast<std::uint64_t>(head->content_length);
    c->client->startResponse(head->status, std::move(headers), length);
    if (!frame.body.empty()) onResponseBody(w, c, frame);
}

void Supervisor::Impl::onResponseBody(Worker& w, const std::shared_ptr<Call>& c, const shm::FrameView& frame) {
    if (!c->response_started) {
        logWarn("ipc", "worker " + w.key + " sent body before head; dropped");
        return;
    }
    if (!frame.body.empty()) {
        c->client_backlog += frame.body.size();
        std::string chunk(reinterpret_cast<const char*>(frame.body.data()), frame.body.size());
        c->client->writeBody(std::move(chunk), [this, c, n = frame.body.size()](bool) {
            c->client_backlog -= n;
            if (c->pausing_link && c->client_backlog <= kClientBacklogLimit / 2) {
                c->pausing_link = false;
                if (auto* w2 = worker(c->worker)) w2->link->resumeReading();
            }
        });
        if (!c->pausing_link && c->client_backlog > kClientBacklogLimit) {
            // A slow client: stop reading this worker's ring; the worker blocks on a full ring.
            c->pausing_link = true;
            w.link->pauseReading();
        }
    }
    const bool last = frame.header.kind == shm::kContinuationKind ? !(frame.header.flags & shm::kFlagMore) : false;
    if (last) {
        c->client->endResponse();
        auto keep = c;  // finish() may resume reading; the backlog callbacks hold their own copy
        bool paused = c->pausing_link;
        c->pausing_link = false;
        if (paused) w.link->resumeReading();
        finish(keep, pool::Outcome::Ok);
    }
}

void Supervisor::Impl::onWorkerBroken(pool::WorkerId id, std::string reason) {
    Worker* w = worker(id);
    if (!w) return;
    logError("ipc", "worker " + w->key + " pid=" + std::to_string(w->process.pid()) + ": " + reason + "; killing it");
    w->failure = reason;
    w->process.kill();  // the exit path fails its in-flight requests with 502
}

void Supervisor::Impl::accumulateRingCounters(Worker& w) {
    auto& ch = w.link->channel();
    const auto& out = ch.outboundCounters();
    const auto& in = ch.inboundCounters();
    ipc_totals_.messages_to_worker += out.messages.load(std::memory_order_relaxed);
    ipc_totals_.bytes_to_worker += out.bytes.load(std::memory_order_relaxed);
    ipc_totals_.messages_to_supervisor += in.messages.load(std::memory_order_relaxed);
    ipc_totals_.bytes_to_supervisor += in.bytes.load(std::memory_order_relaxed);
    for (const auto* c : {&out, &in}) {
        ipc_totals_.wakeups += c->wakeups.load(std::memory_order_relaxed);
        ipc_totals_.spin_hits += c->spin_hits.load(std::memory_order_relaxed);
        ipc_totals_.sleeps += c->sleeps.load(std::memory_order_relaxed);
        ipc_totals_.full_stalls += c->full_stalls.load(std::memory_order_relaxed);
    }
}

void Supervisor::Impl::onWorkerExit(pool::WorkerId id, proc::ExitStatus status) {
    Worker* w = worker(id);
    if (!w) return;
    w->exited = true;
    auto now = Clock::now();
    const bool crashed = !w->terminate_sent;
    std::string how = status.describe();
    if (!w->ready) {
        std::string reason = w->failure.empty() ? "worker exited during start (" + how + ")" : w->failure;
        if (w->ephemeral) {
            if (auto c = call(w->ephemeral_call)) fail(c, 503, "WORKER_INIT_FAILED", reason, pool::Outcome::Crash);
        } else {
            auto fx = pool_.onSpawnFailed(id, now);
            for (auto t : fx.failed) {
                if (auto c = call(t)) {
                    c->parked = false;
                    c->worker = 0;
                    fail(c, 503, "WORKER_INIT_FAILED", reason, pool::Outcome::Ok);
                }
            }
            fx.failed.clear();
            apply(std::move(fx));
        }
    } else {
        if (crashed)
            logError("proc", "worker " + w->key + " pid=" + std::to_string(w->process.pid()) + " " + how + " with " +
                                 std::to_string(w->in_flight.size()) + " request(s) in flight");
        else if (w->ephemeral)
            logDebug("proc", "ephemeral worker " + w->key + " pid=" + std::to_string(w->process.pid()) + " " + how);
        else
            logInfo("proc", "worker " + w->key + " pid=" + std::to_string(w->process.pid()) + " " + how);
        std::vector<std::uint64_t> lost(w->in_flight.begin(), w->in_flight.end());
        if (w->ephemeral && w->ephemeral_call && !w->in_flight.count(w->ephemeral_call))
            lost.push_back(w->ephemeral_call);
        pool::Effects fx;
        if (!w->ephemeral) fx = pool_.onWorkerExited(id, now, crashed).effects;  // accounts the lost requests
        for (auto cid : lost) {
            auto c = call(cid);
            if (!c) continue;
            if (!w->ephemeral) c->worker = 0;  // already accounted by onWorkerExited
            fail(c, 502, "WORKER_CRASHED", "the worker for " + w->key + " exited (" + how + ") before answering",
                 pool::Outcome::Crash);
        }
        apply(std::move(fx));
    }
    accumulateRingCounters(*w);
    w->link->close();
    // Destroy later: we are inside the exit watcher's callback.
    asio::post(server_->ioContext(0), [this, id] { workers_.erase(id); });
}

void Supervisor::Impl::apply(pool::Effects fx) {
    for (auto& a : fx.actions) {
        switch (a.kind) {
        case pool::ActionKind::Spawn: {
            auto it = key_apps_.find(a.key);
            bool ok = it != key_apps_.end() && spawnWorker(a.worker, it->second.first, it->second.second, 0);
            if (!ok) {
                auto more = pool_.onSpawnFailed(a.worker, Clock::now());
                for (auto t : more.failed) {
                    if (auto c = call(t)) {
                        c->parked = false;
                        c->worker = 0;
                        fail(c, 503, "WORKER_SPAWN_FAILED", "could not start a worker for " + a.key, pool::Outcome::Ok);
                    }
                }
                more.failed.clear();
                apply(std::move(more));
            }
            break;
        }
        case pool::ActionKind::Terminate:
            if (auto* w = worker(a.worker)) {
                logInfo("pool", "retiring worker " + w->key + " pid=" + std::to_string(w->process.pid()) + " (" +
                                    std::string(pool::toString(a.reason)) + ")");
                terminateWorker(*w, config_.terminate_grace);
            }
            break;
        case pool::ActionKind::Kill:
            if (auto* w = worker(a.worker)) {
                logWarn("pool", "killing worker " + w->key + " pid=" + std::to_string(w->process.pid()) +
                                    " (did not exit within the grace period)");
                w->terminate_sent = true;
                w->process.kill();
            }
            break;
        case pool::ActionKind::NotifyIdle:
            if (auto* w = worker(a.worker)) sendControl(*w, proto::Kind::Idle);
            break;
        }
    }
    for (auto& g : fx.grants) {
        auto c = call(g.ticket);
        auto* w = worker(g.worker);
        if (!c || c->done) {
            // The request left while parked; give the slot back.
            apply(pool_.onRequestEnd(g.worker, Clock::now(), 0, pool::Outcome::Ok));
            continue;
        }
        if (!w) {
            fail(c, 502, "WORKER_UNAVAILABLE", "worker vanished before the request was sent", pool::Outcome::Crash);
            continue;
        }
        sendToWorker(c, *w);
    }
    for (auto t : fx.failed) {
        if (auto c = call(t)) {
            c->parked = false;
            c->worker = 0;
            fail(c, 503, "WORKER_UNAVAILABLE", "no worker could be started for " + c->app.key, pool::Outcome::Ok);
        }
    }
}

// --- admin -------------------------------------------------------------------------------------

void Supervisor::Impl::serveAdmin(const std::shared_ptr<Client>& client, std::string_view path) {
    const auto& head = client->head();
    auto reply = [&](unsigned status, const json& body) { client->respond(status, jsonHeaders(), body.dump()); };
    const bool get = head.method == "GET" || head.method == "HEAD";
    if (get && (path == "/_/api/health" || path == "/_/health")) return reply(200, health());
    if (get && path == "/_/api/health/live") return reply(200, json{{"live", true}});
    if (get && path == "/_/api/health/ready")
        return reply(shutting_down_ ? 503 : 200, json{{"ready", !shutting_down_}});
    if (get && path == "/_/api/metrics") return reply(200, metrics());
    if (get && path == "/_/api/workers") return reply(200, json{{"workers", workers()}});
    if (get && path == "/_/api/apps") return reply(200, json{{"apps", apps()}});
    if (get && path == "/_/metrics")
        return client->respond(200, {{"content-type", "text/plain; version=0.0.4"}},
                               admin::renderPrometheus(metrics(), workers()));

    const bool mutating =
        path == "/_/api/reload" || (path.rfind("/_/api/workers/", 0) == 0 && path.ends_with("/retire"));
    if (!mutating) return reply(404, json{{"error", "NOT_FOUND"}, {"message", "no admin route " + std::string(path)}});
    if (head.method != "POST") return reply(405, json{{"error", "METHOD_NOT_ALLOWED"}, {"message", "use POST"}});
    if (!head.from_admin_socket) {
        if (config_.admin_token.empty())
            return reply(403, json{{"error", "FORBIDDEN"},
                                   {"message",
                                    "mutating admin calls are disabled: set RUNTIME_ADMIN_TOKEN or use "
                                    "the admin socket (RUNTIME_ADMIN_SOCKET)"}});
        const std::string* auth = head.find("authorization");
        if (!auth || !admin::tokenMatches(*auth, config_.admin_token))
            return reply(401, json{{"error", "UNAUTHORIZED"}, {"message", "missing or wrong bearer token"}});
    }
    if (path == "/_/api/reload") {
        reload();
        return reply(200, json{{"reloaded", true}});
    }
    std::string key(path.substr(std::string_view("/_/api/workers/").size()));
    key = key.substr(0, key.size() - std::string_view("/retire").size());
    if (auto decoded = router::percentDecode(key)) key = *decoded;
    pool::WorkerId target = 0;
    for (auto& [id, w] : workers_) {
        if (w->key == key && !w->ephemeral && !w->exited && !w->terminate_sent) target = id;
    }
    if (!target) return reply(404, json{{"error", "NOT_FOUND"}, {"message", "no live worker " + key}});
    logInfo("admin", "retiring worker " + key + " on request");
    apply(pool_.markUnhealthy(target, Clock::now()));
    reply(200, json{{"retired", key}});
}

json Supervisor::Impl::health() {
    return json{{"status", shutting_down_ ? "draining" : "ok"},
                {"version", BUNTIME_VERSION},
                {"pid", ::getpid()},
                {"uptimeMs", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_at_).count()},
                {"listen", listen_}};
}

json Supervisor::Impl::metrics() {
    auto now = Clock::now();
    auto rss = proc::selfRssBytes().value_or(0);
    std::uint64_t worker_rss = 0;
    for (auto& [id, w] : workers_)
        if (!w->exited) worker_rss += proc::rssBytes(w->process.pid()).value_or(0);
    pool_.setMemoryUsageMB(static_cast<double>(rss) / (1024.0 * 1024.0));
    auto m = pool_.metrics(now);
    const auto& gate = pool_.ephemeralGate();
    return json{{"activeWorkers", m.active_workers},
                {"avgResponseTimeMs", m.avg_response_time_ms},
                {"evictions", m.evictions},
                {"ephemeralConcurrency", m.ephemeral_concurrency},
                {"ephemeralQueueDepth", m.ephemeral_queue_depth},
                {"ephemeralQueueLimit", m.ephemeral_queue_limit},
                {"hitRate", m.hit_rate},
                {"hits", m.hits},
                {"misses", m.misses},
                {"memoryUsageMB", m.memory_usage_mb},
                {"requestsPerSecond", m.requests_per_second},
                {"totalRequests", m.total_requests},
                {"totalWorkersCreated", m.total_workers_created},
                {"totalWorkersFailed", m.total_workers_failed},
                {"totalWorkersRetired", m.total_workers_retired},
                {"uptimeMs", m.uptime_ms},
                {"ephemeralActive", gate.active()},
                {"ephemeralConcurrencyLimit", gate.concurrency()},
                {"ephemeralRejected", gate.rejected()},
                {"poolSize", config_.pool_size},
                {"inFlightRequests", calls_.size()},
                {"pid", ::getpid()},
                {"version", BUNTIME_VERSION},
                {"listen", listen_},
                {"supervisorRssBytes", rss},
                {"workerRssBytes", worker_rss}};
}

namespace {
json ringJson(const shm::RingCounters& c, std::size_t capacity, std::size_t used) {
    return json{{"capacity", capacity},
                {"used", used},
                {"highWater", c.high_water.load(std::memory_order_relaxed)},
                {"messages", c.messages.load(std::memory_order_relaxed)},
                {"bytes", c.bytes.load(std::memory_order_relaxed)},
                {"wakeups", c.wakeups.load(std::memory_order_relaxed)},
                {"spinHits", c.spin_hits.load(std::memory_order_relaxed)},
                {"sleeps", c.sleeps.load(std::memory_order_relaxed)},
                {"fullStalls", c.full_stalls.load(std::memory_order_relaxed)}};
}

json statsJson(const pool::WorkerStats& s) {
    auto at = s.key.rfind('@');
    return json{{"key", s.key},
                {"name", at == std::string::npos ? s.key : s.key.substr(0, at)},
                {"version", at == std::string::npos ? "" : s.key.substr(at + 1)},
                {"status", pool::toString(s.status)},
                {"state", pool::toString(s.state)},
                {"ageMs", s.age_ms},
                {"idleMs", s.idle_ms},
                {"avgResponseTimeMs", s.avg_response_time_ms},
                {"errorCount", s.error_count},
                {"requestCount", s.request_count},
                {"inFlight", s.in_flight},
                {"pid", nullptr},
                {"rssBytes", nullptr},
                {"ring", nullptr}};
}
}  // namespace

json Supervisor::Impl::workers() {
    auto snap = pool_.snapshot(Clock::now());
    json rows = json::array();
    auto addLive = [&](json row, pool::WorkerId id) {
        if (auto* w = worker(id); w && !w->exited) {
            auto& ch = w->link->channel();
            row["pid"] = w->process.pid();
            row["rssBytes"] = proc::rssBytes(w->process.pid()).value_or(0);
            row["inFlight"] = w->in_flight.size();
            row["ring"] = json{{"toWorker", ringJson(ch.outboundCounters(), ch.ringCapacity(), ch.outboundUsed())},
                               {"toSupervisor", ringJson(ch.inboundCounters(), ch.ringCapacity(), ch.inboundUsed())}};
        }
        rows.push_back(std::move(row));
    };
    for (const auto& s : snap.workers) addLive(statsJson(s), s.id);
    for (const auto& s : snap.draining) {
        auto row = statsJson(s);
        row["status"] = "draining";
        addLive(std::move(row), s.id);
    }
    return rows;
}

namespace {
json manifestErrorJson(const router::Error& e, const std::filesystem::path& fallback_file) {
    return json{{"file", e.file.empty() ? fallback_file.string() : e.file}, {"key", e.key}, {"message", e.message}};
}
}  // namespace

json Supervisor::Impl::apps() {
    auto now = Clock::now();
    json out = json::array();
    for (const auto& app : router_.listApps()) {
        for (const auto& v : app.versions) {
            json row{{"name", app.name},
                     {"version", v.version},
                     {"dir", v.dir.string()},
                     {"layout", router::layoutName(v.layout)},
                     {"error", nullptr}};
            auto manifest = router_.config(v.dir, now);
            if (manifest) {
                row["config"] = router::toJson(manifest.value()->config);
                const auto& ep = manifest.value()->config.entrypoint;
                std::error_code ec;
                row["entrypointKind"] = ep ? (ep->ends_with(".html") ? "static"
                                              : ep->ends_with(".so") ? "so"
                                                                     : "exec")
                                        : std::filesystem::exists(v.dir / "index.html", ec) ? "static"
                                        : std::filesystem::exists(v.dir / "app.so", ec)     ? "so"
                                        : std::filesystem::exists(v.dir / "app", ec)        ? "exec"
                                                                                            : "none";
            } else {
                row["error"] = manifestErrorJson(manifest.error(), v.dir / "manifest.yaml");
            }
            if (!v.error.message.empty() && row["error"].is_null())
                row["error"] = manifestErrorJson(v.error, v.dir / "manifest.yaml");
            out.push_back(std::move(row));
        }
        for (const auto& e : app.errors)
            out.push_back(json{{"name", app.name}, {"version", ""}, {"error", manifestErrorJson(e, {})}});
    }
    return out;
}

IpcCounters Supervisor::Impl::ipc() {
    IpcTotals t = ipc_totals_;
    for (auto& [id, w] : workers_) {
        if (w->exited) continue;
        auto& ch = w->link->channel();
        const auto& out = ch.outboundCounters();
        const auto& in = ch.inboundCounters();
        t.messages_to_worker += out.messages.load();
        t.bytes_to_worker += out.bytes.load();
        t.messages_to_supervisor += in.messages.load();
        t.bytes_to_supervisor += in.bytes.load();
        for (const auto* c : {&out, &in}) {
            t.wakeups += c->wakeups.load();
            t.spin_hits += c->spin_hits.load();
            t.sleeps += c->sleeps.load();
            t.full_stalls += c->full_stalls.load();
        }
    }
    IpcCounters r;
    r.messages_to_worker = t.messages_to_worker;
    r.messages_to_supervisor = t.messages_to_supervisor;
    r.bytes_to_worker = t.bytes_to_worker;
    r.bytes_to_supervisor = t.bytes_to_supervisor;
    r.wakeups = t.wakeups;
    r.spin_hits = t.spin_hits;
    r.sleeps = t.sleeps;
    r.full_stalls = t.full_stalls;
    if (t.timed) {
        r.ring_ns_per_request_in = t.ring_in_ns / static_cast<double>(t.timed);
        r.ring_ns_per_request_out = t.ring_out_ns / static_cast<double>(t.timed);
        r.app_ns_per_request = t.app_ns / static_cast<double>(t.timed);
    }
    return r;
}

// --- reload and shutdown --------------------------------------------------------------------

void Supervisor::Impl::reload() {
    proc::notify("RELOADING=1");
    router_.clearCaches();
    std::size_t recycled = 0;
    auto now = Clock::now();
    std::vector<pool::WorkerId> live;
    for (auto& [id, w] : workers_)
        if (!w->ephemeral && !w->exited && !w->terminate_sent) live.push_back(id);
    for (auto id : live) {
        apply(pool_.markUnhealthy(id, now));
        ++recycled;
    }
    logInfo("supervisor", "reload: caches cleared, manifests will be re-read, " + std::to_string(recycled) +
                              " worker(s) recycled after their in-flight requests");
    proc::notify("READY=1");
}

void Supervisor::Impl::shutdown() {
    if (shutting_down_) return;
    shutting_down_ = true;
    proc::notify("STOPPING=1");
    shutdown_deadline_ = Clock::now() + config_.shutdown_timeout;
    server_->stopAccepting();
    server_->closeIdle();
    // Queued ephemeral requests will not get a worker any more.
    for (auto t : pool_.ephemeralGate().clearQueue()) {
        if (auto c = call(t)) {
            c->parked = false;
            fail(c, 503, "SHUTTING_DOWN", "the supervisor is shutting down", pool::Outcome::Ok);
        }
    }
    tick();
}

void Supervisor::Impl::finishShutdown() {
    if (!running_) return;
    running_ = false;
    for (auto& [id, c] : std::unordered_map<std::uint64_t, std::shared_ptr<Call>>(calls_))
        fail(c, 503, "SHUTTING_DOWN", "the supervisor is shutting down", pool::Outcome::Ok);
    auto fx = pool_.shutdown(Clock::now());
    for (auto t : fx.failed)
        if (auto c = call(t)) fail(c, 503, "SHUTTING_DOWN", "the supervisor is shutting down", pool::Outcome::Ok);
    fx.failed.clear();
    for (auto& a : fx.actions)
        if (a.kind == pool::ActionKind::Spawn) a.kind = pool::ActionKind::NotifyIdle;  // never spawn now
    apply(std::move(fx));
    for (auto& [id, w] : workers_) terminateWorker(*w, config_.terminate_grace);
    // Wait for the workers' onTerminate hooks, then kill what is left.
    waitForWorkersThenStop(Clock::now() + config_.terminate_grace);
}

void Supervisor::Impl::waitForWorkersThenStop(Clock::time_point deadline) {
    bool all_gone = true;
    for (auto& [id, w] : workers_) all_gone = all_gone && w->exited;
    if (!all_gone && Clock::now() < deadline) {
        tick_timer_->expires_after(std::chrono::milliseconds(20));
        tick_timer_->async_wait([this, deadline](boost::system::error_code ec) {
            if (!ec) waitForWorkersThenStop(deadline);
        });
        return;
    }
    for (auto& [id, w] : workers_) {
        if (!w->exited) {
            logWarn("proc",
                    "worker " + w->key + " pid=" + std::to_string(w->process.pid()) + " ignored TERMINATE; killing it");
            w->process.kill();
            w->process.wait();
        }
        w->watcher.cancel();
        if (w->link) w->link->close();
    }
    workers_.clear();
    status_timer_->cancel();
    if (watchdog_timer_) watchdog_timer_->cancel();
    if (signals_) {
        boost::system::error_code ignored;
        signals_->cancel(ignored);
    }
    logInfo("supervisor", "stopped");
    server_->stop();
}

// --- Supervisor -------------------------------------------------------------------------------

Supervisor::Supervisor(SupervisorConfig config, std::vector<std::string> environment)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(environment))) {}

Supervisor::~Supervisor() {
    if (impl_->server_) {
        if (impl_->running_) {
            asio::post(impl_->server_->ioContext(0), [impl = impl_.get()] { impl->shutdown(); });
            impl_->server_->join();
        }
        impl_->server_->stop();
        impl_->server_->join();
    }
}

std::string Supervisor::start(bool handle_signals) { return impl_->start(handle_signals); }
void Supervisor::run() { impl_->server_->run(); }
void Supervisor::runInThreads() { impl_->server_->runInThreads(); }
void Supervisor::join() { impl_->server_->join(); }
void Supervisor::requestShutdown() {
    asio::post(impl_->server_->ioContext(0), [impl = impl_.get()] { impl->shutdown(); });
}
void Supervisor::reload() {
    asio::post(impl_->server_->ioContext(0), [impl = impl_.get()] { impl->reload(); });
}
std::uint16_t Supervisor::port() const { return impl_->server_ ? impl_->server_->port() : 0; }
void Supervisor::submit(std::shared_ptr<Client> client) {
    asio::post(impl_->server_->ioContext(0),
               [impl = impl_.get(), client = std::move(client)] { impl->accept(client); });
}
nlohmann::json Supervisor::metricsJson() {
    return impl_->onCore([this] { return impl_->metrics(); });
}
nlohmann::json Supervisor::workersJson() {
    return impl_->onCore([this] { return impl_->workers(); });
}
nlohmann::json Supervisor::appsJson() {
    return impl_->onCore([this] { return impl_->apps(); });
}
IpcCounters Supervisor::ipcCounters() {
    return impl_->onCore([this] { return impl_->ipc(); });
}

}  // namespace buntime::supervisor
