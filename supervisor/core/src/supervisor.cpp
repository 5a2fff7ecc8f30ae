// SPDX-License-Identifier: MIT
// The composition root: builds router, pool, worker host, dispatcher, admin view and
// lifecycle from one SupervisorConfig, wires their callbacks, and is the public facade.
#include "buntime/supervisor/supervisor.h"

#include <boost/asio/post.hpp>

#include <future>

#include "app_logs.h"
#include "asio_worker_host.h"
#include "buntime/admin/routes.h"
#include "buntime/base/log.h"
#include "buntime/proc/state_dir.h"
#include "buntime/proc/systemd.h"
#include "config_mapping.h"
#include "deploy_service.h"
#include "dispatcher.h"
#include "http_client.h"
#include "ipc_stats.h"
#include "lifecycle.h"
#include "replies.h"
#include "supervisor_view.h"
#include "worker_launch.h"

namespace buntime::supervisor {
namespace asio = boost::asio;

struct Supervisor::Impl {
    Impl(SupervisorConfig c, std::vector<std::string> environment)
        : config(std::move(c)), router(toRouterOptions(config)), pool(toPoolConfig(config), base::Clock::now()) {
        base::setLogLevel(config.log_level);
        launch.worker_binary = config.worker_binary.empty() ? defaultWorkerBinary() : config.worker_binary;
        launch.log_level = config.log_level;
        launch.port = config.port;
        launch.node_env = config.node_env;
        for (const auto& dir : config.worker_dirs) launch.worker_dirs += (launch.worker_dirs.empty() ? "" : ":") + dir;
        // Workers never see the supervisor's own channel or socket-activation variables.
        worker_environment = withoutSupervisorOnly(std::move(environment));
    }

    base::Expected<void, std::string> start(bool handle_signals);

    // Runs `f` on the core loop and waits for its result (the caller is another thread).
    // Always completes: an exception in `f`, or a loop that stops before running it (the
    // task is then destroyed: broken promise), comes back as an error, never a wait forever.
    template <typename F>
    auto onCore(F&& f) -> base::Expected<decltype(f()), std::string> {
        using T = decltype(f());
        auto run = [&]() -> base::Expected<T, std::string> {
            try {
                return f();
            } catch (const std::exception& e) {
                return std::string(e.what());
            }
        };
        auto& io = server->ioContext(0);
        if (io.get_executor().running_in_this_thread() || !lifecycle || !lifecycle->running()) return run();
        auto task = std::make_shared<std::packaged_task<T()>>(std::forward<F>(f));
        auto future = task->get_future();
        asio::post(io, [task] { (*task)(); });
        task.reset();  // the posted handler owns it now
        try {
            return future.get();
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
    }

    // Hands a request to the dispatcher on the core loop. An exception is logged and fails
    // that one request with 500; the loop keeps serving.
    void accept(const std::shared_ptr<Client>& client) noexcept {
        try {
            dispatcher->accept(client, base::Clock::now());
            return;
        } catch (const std::exception& e) {
            base::logFormat(base::LogLevel::Error, "supervisor", "request %s failed: %s",
                            client->head().request_id.c_str(), e.what());
        } catch (...) {
            base::logFormat(base::LogLevel::Error, "supervisor", "request %s failed",
                            client->head().request_id.c_str());
        }
        try {
            client->respond(500, jsonHeaders(), errorBody("INTERNAL_ERROR", "the request failed"));
        } catch (...) {}
    }

    SupervisorConfig config;
    LaunchSettings launch;
    std::vector<std::string> worker_environment;
    router::Router router;
    pool::WorkerPool pool;
    IpcStats stats;
    // The loop-bound parts, built by start() once the server (and its loops) exist.
    std::unique_ptr<http::Server> server;
    std::unique_ptr<AppLogs> app_logs;  // workers' output; after the server: it uses its loop
    std::unique_ptr<LogFollowers> log_followers;
    std::unique_ptr<AsioWorkerHost> host;
    std::unique_ptr<Dispatcher> dispatcher;
    std::unique_ptr<CoreView> view;
    std::unique_ptr<admin::AdminApi> admin;
    std::unique_ptr<Lifecycle> lifecycle;
    std::unique_ptr<DeployService> deploy;  // destroyed first: joins its install thread
    std::optional<proc::StateDirLock> state_lock;
};

base::Expected<void, std::string> Supervisor::Impl::start(bool handle_signals) {
    if (!config.state_dir.empty()) {
        auto lock = proc::acquireStateDir(config.state_dir);
        if (!lock) return lock.error().message;
        state_lock.emplace(std::move(lock.value()));
    }
    // As the seed runtime: no worker directory is a configuration error, not an empty server.
    if (config.worker_dirs.empty()) return std::string("workerDirs is required: set RUNTIME_WORKER_DIRS");
    // Worker isolation: environment policy, memory cap, worker user, cgroups.
    auto settings = launchSettings(worker_environment, launch.worker_binary, launch.log_level);
    if (!settings) return settings.error();
    settings->port = launch.port;
    settings->node_env = launch.node_env;
    settings->worker_dirs = launch.worker_dirs;
    launch = std::move(settings.value());

    auto server_config = toServerConfig(config, proc::listenFds());
    const bool socket_activated = !server_config.inherited_fds.empty();
    const auto inherited = server_config.inherited_fds.size();
    server = std::make_unique<http::Server>(server_config, [this](std::shared_ptr<http::Exchange> ex) {
        auto& core = server->ioContext(0);
        auto client = std::make_shared<HttpClient>(std::move(ex), core);
        if (core.get_executor().running_in_this_thread())
            accept(client);
        else
            asio::post(core, [this, client] { accept(client); });
    });
    auto& core = server->ioContext(0);
    app_logs = std::make_unique<AppLogs>(core, config.app_log_lines);
    log_followers = std::make_unique<LogFollowers>(core, *app_logs);
    host = std::make_unique<AsioWorkerHost>(core, config, launch, worker_environment, stats);
    host->setAppLogs(app_logs.get());
    DispatcherOptions options;
    options.terminate_grace = config.terminate_grace;
    options.worker_ping = config.worker_ping;
    options.clock = [] { return base::Clock::now(); };
    options.admin = [this](const std::shared_ptr<Client>& client) {
        const auto& head = client->head();
        const std::string_view target = head.target;
        const auto q = target.find('?');
        const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
        const admin::Request request{head.method, head.path(), head.find("authorization"), head.from_admin_socket,
                                     head.remote, query};
        if (admin->isUpload(request)) {  // the body is read here, installed off the loop
            std::string who;
            if (auto refused = admin->authorize(request, admin::Role::Deployer, &who))
                client->respond(refused->status, {{"content-type", std::move(refused->content_type)}},
                                std::move(refused->body));
            else
                deploy->upload(client, std::move(who));
            return;
        }
        auto reply = admin->handle(request);
        if (reply.follow) {
            if (lifecycle && lifecycle->draining()) {
                client->respond(503, jsonHeaders(), errorBody("SHUTTING_DOWN", "the supervisor is shutting down"));
                return;
            }
            log_followers->start(client, std::move(reply.follow->app), reply.follow->tail);
            return;
        }
        client->respond(reply.status, {{"content-type", std::move(reply.content_type)}}, std::move(reply.body));
    };
    options.admin_path = [this](std::string_view target) { return admin && admin->answers(target); };
    dispatcher = std::make_unique<Dispatcher>(router, pool, *host, stats, std::move(options));
    host->setEvents(*dispatcher);
    lifecycle = std::make_unique<Lifecycle>(config, *server, router, pool, *dispatcher, *host);
    lifecycle->onDrain([this] { log_followers->endAll(); });
    deploy = std::make_unique<DeployService>(core, config, router, pool, *dispatcher, *host);
    view = std::make_unique<CoreView>(
        config, router, pool, *dispatcher, *host,
        CoreView::Hooks{[this] { lifecycle->reload(); }, [this] { return lifecycle->draining(); },
                        [this](std::string_view name, std::string_view version, bool force) {
                            return deploy->remove(name, version, force);
                        },
                        [this](std::string_view name) { return deploy->reloadApp(name); }});
    std::vector<admin::ApiKey> keys;
    if (!config.api_keys_file.empty()) {
        auto loaded = admin::loadApiKeys(config.api_keys_file);
        if (!loaded) return loaded.error();
        keys = std::move(loaded.value());
        base::logInfo("supervisor", "admin API keys: " + std::to_string(keys.size()) + " from " + config.api_keys_file);
    }
    admin = std::make_unique<admin::AdminApi>(
        *view, config.admin_token, admin::AdminOptions{config.api_prefix, config.api_compat == "bun"}, std::move(keys));

    auto started = server->start();
    if (!started) return started.error().message;
    const std::string listen = socket_activated ? "systemd socket (" + std::to_string(inherited) + " fd)"
                                                : config.bind + ":" + std::to_string(server->port());
    view->setListen(listen);
    view->setAppLogs(app_logs.get());
    lifecycle->start(handle_signals);
    base::logInfo("supervisor", "listening on " + listen + " (worker binary " + launch.worker_binary + ", pool " +
                                    std::to_string(config.pool_size) + ")");
    return {};
}

Supervisor::Supervisor(SupervisorConfig config, std::vector<std::string> environment)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(environment))) {}

Supervisor::~Supervisor() {
    if (!impl_->server) return;
    if (impl_->lifecycle && impl_->lifecycle->running()) {
        asio::post(impl_->server->ioContext(0), [impl = impl_.get()] { impl->lifecycle->shutdown(); });
        impl_->server->join();
    }
    impl_->server->stop();
    impl_->server->join();
}

base::Expected<void, std::string> Supervisor::start(bool handle_signals) { return impl_->start(handle_signals); }
void Supervisor::run() { impl_->server->run(); }
void Supervisor::runInThreads() { impl_->server->runInThreads(); }
void Supervisor::join() { impl_->server->join(); }
void Supervisor::requestShutdown() {
    asio::post(impl_->server->ioContext(0), [impl = impl_.get()] { impl->lifecycle->shutdown(); });
}
void Supervisor::reload() {
    asio::post(impl_->server->ioContext(0), [impl = impl_.get()] { impl->lifecycle->reload(); });
}
std::uint16_t Supervisor::port() const { return impl_->server ? impl_->server->port() : 0; }
void Supervisor::submit(std::shared_ptr<Client> client) {
    asio::post(impl_->server->ioContext(0), [impl = impl_.get(), client = std::move(client)] { impl->accept(client); });
}
admin::MetricsView Supervisor::metrics() {
    auto m = impl_->onCore([this] { return impl_->view->metrics(); });
    if (!m) base::logError("supervisor", "metrics: " + m.error());
    return m ? std::move(m).value() : admin::MetricsView{};
}
IpcCounters Supervisor::ipcCounters() {
    auto c = impl_->onCore([this] {
        shm::RingStats to_worker, to_supervisor;
        impl_->host->liveRingTotals(to_worker, to_supervisor);
        return impl_->stats.totals(to_worker, to_supervisor);
    });
    if (!c) base::logError("supervisor", "ipc counters: " + c.error());
    return c ? std::move(c).value() : IpcCounters{};
}

}  // namespace buntime::supervisor
