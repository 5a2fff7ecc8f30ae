// SPDX-License-Identifier: MIT
// Worker processes: spawn, frames, exit, shutdown.
#include "asio_worker_host.h"

#include <boost/asio/post.hpp>

#include "buntime/base/log.h"
#include "buntime/proc/rss.h"
#include "buntime/proto/control.h"
#include "buntime/proto/stream.h"
#include "config_mapping.h"

namespace buntime::supervisor {

AsioWorkerHost::AsioWorkerHost(boost::asio::io_context& io, const SupervisorConfig& config, LaunchSettings launch,
                               std::vector<std::string> environment, IpcStats& stats)
    : io_(io),
      config_(config),
      launch_(std::move(launch)),
      environment_(std::move(environment)),
      stats_(stats),
      zygotes_(io) {}

AsioWorkerHost::~AsioWorkerHost() = default;

AsioWorkerHost::Worker* AsioWorkerHost::find(pool::WorkerId id) const {
    auto it = workers_.find(id);
    return it == workers_.end() ? nullptr : it->second.get();
}

AsioWorkerHost::Worker* AsioWorkerHost::findServing(pool::WorkerId id) const {
    auto* w = find(id);
    return w && !w->exited && w->link ? w : nullptr;
}

void AsioWorkerHost::warnAboutEnv(const std::string& key, const LaunchPlan& plan) {
    auto join = [](const std::vector<std::string>& names) {
        std::string out;
        for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
        return out;
    };
    if (!plan.dropped_env.empty() && warned_env_keys_.insert(key).second)
        base::logWarn("supervisor", "not passing sensitive variables to " + key + ": " + join(plan.dropped_env));
    if (!plan.sensitive_kept.empty() && warned_env_keys_.insert(key + "#kept").second)
        base::logWarn("supervisor", key + " manifest env sets sensitive-looking variables (passed as asked): " +
                                        join(plan.sensitive_kept));
}

bool AsioWorkerHost::spawn(pool::WorkerId id, const router::ResolvedApp& app,
                           const std::shared_ptr<const router::Manifest>& manifest, bool ephemeral) {
    const auto decided = base::Clock::now();  // spawn-to-ready: start
    const auto generation = next_generation_++;
    spawn_failure_.clear();
    auto channel = shm::Channel::create(toChannelConfig(config_, generation));
    if (!channel) {
        spawn_failure_ = "cannot create a channel: " + std::string(shm::toString(channel.error()));
        base::logError("ipc", "cannot create a channel for " + app.key + ": " + spawn_failure_);
        return false;
    }
    auto plan = planLaunch(launch_, app, manifest->config, environment_, ephemeral, channel->fds());
    warnAboutEnv(app.key, plan);
    if (!plan.failure.empty()) {
        base::logError("proc", "cannot start worker for " + app.key + ": " + plan.failure);
        spawn_failure_ = plan.failure;
        return false;
    }
    // The worker's stdout and stderr: pipes read on this loop (AppLogs), their write ends
    // closed here once the child holds them.
    std::optional<proc::StdioPipes> stdio;
    if (app_logs_) {
        if (auto pipes = proc::makeStdioPipes()) {
            stdio.emplace(std::move(pipes.value()));
            plan.spawn.stdout_fd = stdio->out_write.get();
            plan.spawn.stderr_fd = stdio->err_write.get();
        } else {
            base::logWarn("proc", "cannot capture the output of " + app.key + ": " + pipes.error().message +
                                      "; it goes to the supervisor's stderr");
        }
    }
    // Fork vs exec: a .so app forks from its template when one is ready (zygotes.h).
    std::optional<proc::Process> forked;
    if (Zygotes::eligible(plan, manifest->config))
        forked = zygotes_.fork(app.key, plan, channel->fds(), plan.spawn.stdout_fd, plan.spawn.stderr_fd,
                               ephemeral ? parkedPerEphemeralApp(config_) : 0);
    const SpawnPath spawn_path = forked ? SpawnPath::Fork : SpawnPath::Exec;
    auto process =
        forked ? proc::Expected<proc::Process, proc::SpawnError>(std::move(*forked)) : proc::Process::spawn(plan.spawn);
    if (!process) {
        base::logError("proc", "cannot start worker for " + app.key + ": " + process.error().message);
        spawn_failure_ = process.error().message;
        return false;
    }
    if (stdio) {
        stdio->out_write.reset();
        stdio->err_write.reset();
        app_logs_->watch(app.name, app.version, process->pid(), std::move(stdio->out_read), std::move(stdio->err_read));
    }
    channel->setPeerPidfd(process->pidfd());

    auto w = std::make_unique<Worker>();
    w->id = id;
    w->key = app.key;
    w->ephemeral = ephemeral;
    w->kind = plan.kind;
    w->spawn_path = spawn_path;
    w->generation = generation;
    w->spawned = base::Clock::now();
    w->spawn_decided = decided;
    w->recycle_rss = recycleRssBytes(launch_, manifest->config);
    w->process = std::move(process.value());
    w->link = std::make_unique<ipc::WorkerLink>(io_, std::move(channel.value()));
    auto* raw = w.get();
    workers_[id] = std::move(w);
    raw->link->start([this, id](const shm::FrameView& f) { onFrame(id, f); },
                     [this, id](shm::Error e) { onBroken(id, "invalid frame: " + std::string(shm::toString(e))); });
    auto watcher = proc::ExitWatcher::watch(io_, raw->process, [this, id](proc::ExitStatus st) { onExit(id, st); });
    if (!watcher) {
        base::logError("proc", "cannot watch worker " + app.key + ": " + watcher.error().message);
        raw->process.kill();
    } else {
        raw->watcher = std::move(watcher.value());
    }
    base::logDebug("proc", "spawned worker " + app.key + " pid=" + std::to_string(raw->process.pid()) +
                               (ephemeral ? " (ephemeral)" : ""));
    return true;
}

bool AsioWorkerHost::send(pool::WorkerId id, const shm::Outgoing& frame) {
    auto* w = findServing(id);
    return w && w->link->send(frame);
}

std::size_t AsioWorkerHost::pendingBytes(pool::WorkerId id) const {
    auto* w = findServing(id);
    return w ? w->link->pendingBytes() : 0;
}

void AsioWorkerHost::whenDrained(pool::WorkerId id, std::function<void()> callback) {
    if (auto* w = findServing(id)) w->link->whenDrained(std::move(callback));
}

void AsioWorkerHost::pauseReading(pool::WorkerId id) {
    if (auto* w = findServing(id)) w->link->pauseReading();
}

void AsioWorkerHost::resumeReading(pool::WorkerId id) {
    if (auto* w = findServing(id)) w->link->resumeReading();
}

void AsioWorkerHost::terminate(pool::WorkerId id, std::chrono::milliseconds grace) {
    auto* w = findServing(id);
    if (!w || w->terminate_sent) return;
    w->terminate_sent = true;
    const auto text = proto::encodeTerminate(grace);
    w->link->send(proto::frame(proto::Kind::Terminate, 0, proto::bytesOf(text)));
}

void AsioWorkerHost::kill(pool::WorkerId id) {
    if (auto* w = find(id); w && !w->exited) w->process.kill();
}

int AsioWorkerHost::pid(pool::WorkerId id) const {
    auto* w = find(id);
    return w ? w->process.pid() : 0;
}

bool AsioWorkerHost::overMemory(pool::WorkerId id) {
    auto* w = findServing(id);
    if (!w || w->recycle_rss == 0 || w->terminate_sent) return false;
    const auto now = base::Clock::now();
    if (now - w->rss_checked < kRssCheckInterval) return false;  // one /proc read per interval
    w->rss_checked = now;
    const auto rss = proc::rssBytes(w->process.pid());
    if (!rss || *rss <= w->recycle_rss) return false;
    base::logWarn("proc", "worker " + w->key + " pid=" + std::to_string(w->process.pid()) + " uses " +
                              std::to_string(*rss >> 20) + " MiB, past its recycle threshold of " +
                              std::to_string(w->recycle_rss >> 20) + " MiB (" + std::to_string(kRecyclePercent) +
                              "% of its memory cap); recycling it");
    return true;
}

void AsioWorkerHost::onFrame(pool::WorkerId id, const shm::FrameView& frame) {
    Worker* w = findServing(id);
    if (!w) return;
    const auto now = base::Clock::now();
    const auto kind = frame.header.kind;
    if (kind == proto::toWire(proto::Kind::Ready)) {
        if (w->ready) return;
        w->ready = true;
        // spawn-to-ready: end (w->spawned .. now, by w->kind and w->spawn_path: fork or exec).
        base::logDebug("proc", "worker " + w->key + " pid=" + std::to_string(w->process.pid()) + " ready in " +
                                   std::to_string(static_cast<long>(base::msBetween(w->spawned, now))) + " ms (" +
                                   std::string(spawnPathName(w->spawn_path)) + ")");
        spawn_metrics_.observeSpawn(w->kind, w->spawn_path,
                                    std::chrono::duration<double>(now - w->spawn_decided).count());
        events_->onWorkerReady(id, now);
        return;
    }
    if (kind == proto::toWire(proto::Kind::InitFailed)) {
        w->failure = proto::decodeReason(frame.head);
        base::logError("proc", "worker " + w->key + " failed to start: " + w->failure);
        return;  // the exit that follows fails the waiting requests with this reason
    }
    events_->onWorkerFrame(id, frame, now);
}

void AsioWorkerHost::onBroken(pool::WorkerId id, std::string reason) {
    Worker* w = find(id);
    if (!w) return;
    base::logError("ipc",
                   "worker " + w->key + " pid=" + std::to_string(w->process.pid()) + ": " + reason + "; killing it");
    w->failure = std::move(reason);
    w->process.kill();  // the exit path fails its in-flight requests with 502
}

void AsioWorkerHost::onExit(pool::WorkerId id, proc::ExitStatus status) {
    Worker* w = find(id);
    if (!w) return;
    w->exited = true;
    WorkerExit exit{w->process.pid(), status.describe(), w->ready, w->terminate_sent, w->failure};
    events_->onWorkerExit(id, exit, base::Clock::now());
    auto& channel = w->link->channel();
    stats_.retire(shm::snapshot(channel.outboundCounters()), shm::snapshot(channel.inboundCounters()));
    w->link->close();
    // Destroy later: we are inside the exit watcher's callback.
    boost::asio::post(io_, [this, id] { workers_.erase(id); });
}

std::optional<AsioWorkerHost::LiveWorker> AsioWorkerHost::live(pool::WorkerId id) const {
    auto* w = findServing(id);
    if (!w) return std::nullopt;
    const auto& ch = w->link->channel();
    return LiveWorker{w->id,
                      w->key,
                      w->ephemeral,
                      w->process.pid(),
                      ch.ringCapacity(),
                      ch.outboundUsed(),
                      ch.inboundUsed(),
                      shm::snapshot(ch.outboundCounters()),
                      shm::snapshot(ch.inboundCounters()),
                      w->kind,
                      std::string(spawnPathName(w->spawn_path))};
}

std::vector<pool::WorkerId> AsioWorkerHost::livePooledWorkers() const {
    std::vector<pool::WorkerId> ids;
    for (const auto& [id, w] : workers_)
        if (!w->ephemeral && !w->exited && !w->terminate_sent) ids.push_back(id);
    return ids;
}

std::optional<pool::WorkerId> AsioWorkerHost::livePooledWorker(std::string_view key) const {
    for (const auto& [id, w] : workers_)
        if (w->key == key && !w->ephemeral && !w->exited && !w->terminate_sent) return id;
    return std::nullopt;
}

void AsioWorkerHost::liveRingTotals(shm::RingStats& to_worker, shm::RingStats& to_supervisor) const {
    for (const auto& [id, w] : workers_) {
        if (w->exited) continue;
        const auto& ch = w->link->channel();
        to_worker += shm::snapshot(ch.outboundCounters());
        to_supervisor += shm::snapshot(ch.inboundCounters());
    }
}

std::vector<int> AsioWorkerHost::livePids() const {
    std::vector<int> pids;
    for (const auto& [id, w] : workers_)
        if (!w->exited) pids.push_back(w->process.pid());
    return pids;
}

void AsioWorkerHost::terminateAll(std::chrono::milliseconds grace) {
    zygotes_.stopAll();  // no new workers while draining; the forked ones are ours, not the templates'
    for (const auto& [id, w] : workers_) terminate(id, grace);
}

bool AsioWorkerHost::allExited() const {
    for (const auto& [id, w] : workers_)
        if (!w->exited) return false;
    return true;
}

void AsioWorkerHost::killRemaining() {
    for (auto& [id, w] : workers_) {
        if (!w->exited) {
            base::logWarn("proc", "worker " + w->key + " pid=" + std::to_string(w->process.pid()) +
                                      " ignored TERMINATE; killing it");
            w->process.kill();
            w->process.wait();
        }
        w->watcher.cancel();
        if (w->link) w->link->close();
    }
    workers_.clear();
    zygotes_.stopAll();
}

}  // namespace buntime::supervisor
