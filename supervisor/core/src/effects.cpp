// SPDX-License-Identifier: MIT
// The worker side of the dispatcher: carrying out the pool's effects, and the events of
// worker processes (ready, frames, exit).
#include "buntime/base/log.h"
#include "buntime/proto/control.h"
#include "buntime/proto/messages.h"
#include "buntime/proto/stream.h"
#include "dispatcher.h"

namespace buntime::supervisor {

void Dispatcher::apply(pool::Effects fx, base::TimePoint now) {
    for (auto& a : fx.actions) {
        switch (a.kind) {
        case pool::ActionKind::Spawn: {
            auto it = key_apps_.find(a.key);
            if (it != key_apps_.end() && spawnWorker(a.worker, it->second.first, it->second.second, 0, now)) break;
            // spawnWorker noted why (backoff_), or the app is unknown.
            const auto b = backoff_.find(a.key);
            applyFailingParked(pool_.onSpawnFailed(a.worker, now), Reply::WorkerSpawnFailed,
                               b != backoff_.end() && !b->second.reason.empty()
                                   ? b->second.reason
                                   : "could not start a worker for " + a.key,
                               now);
            break;
        }
        case pool::ActionKind::Terminate:
            base::logInfo("pool", "retiring worker " + a.key + " pid=" + std::to_string(host_.pid(a.worker)) + " (" +
                                      std::string(pool::toString(a.reason)) + ")");
            if (auto w = workers_.find(a.worker); w != workers_.end()) w->second.terminating = true;
            host_.terminate(a.worker, options_.terminate_grace);
            break;
        case pool::ActionKind::Kill:
            base::logWarn("pool", "killing worker " + a.key + " pid=" + std::to_string(host_.pid(a.worker)) +
                                      " (did not exit within the grace period)");
            host_.kill(a.worker);
            break;
        case pool::ActionKind::NotifyIdle: host_.send(a.worker, proto::frame(proto::Kind::Idle)); break;
        }
    }
    for (const auto& g : fx.grants) {
        auto c = call(g.ticket);
        if (!c || c->done()) {
            // The request left while parked; give the slot back.
            apply(pool_.onRequestEnd(g.worker, now, 0, pool::Outcome::Ok), now);
            continue;
        }
        sendToWorker(c, g.worker, now);
    }
    for (auto ticket : fx.failed) {
        if (auto c = call(ticket)) {
            c->worker = 0;
            fail(c, Reply::NoWorker, "no worker could be started for " + c->app.key, pool::Outcome::Ok, now);
        }
    }
}

void Dispatcher::applyFailingParked(pool::Effects fx, Reply reply, std::string_view message, base::TimePoint now) {
    failTickets(fx.failed, reply, message, now);
    fx.failed.clear();
    apply(std::move(fx), now);
}

void Dispatcher::onWorkerReady(pool::WorkerId id, base::TimePoint now) {
    auto it = workers_.find(id);
    if (it == workers_.end() || it->second.start_failed) return;  // too late: it is being killed
    it->second.ready = true;
    it->second.last_heard = now;
    backoff_.erase(it->second.key);  // the app starts again: no more backoff
    if (!it->second.ephemeral) {
        apply(pool_.onReady(id, now), now);
        return;
    }
    if (auto c = call(it->second.ephemeral_call); c && c->state == CallState::Spawning)
        sendToWorker(c, id, now);
    else
        host_.terminate(id, std::chrono::milliseconds(0));  // its request is gone
}

void Dispatcher::onWorkerFrame(pool::WorkerId id, const shm::FrameView& frame, base::TimePoint now) {
    auto w = workers_.find(id);
    if (w != workers_.end()) {  // any frame is a sign of life, a Pong or not
        w->second.last_heard = now;
        w->second.ping_token = 0;
    }
    if (frame.header.kind == proto::toWire(proto::Kind::Pong)) return;
    auto c = call(frame.header.request_id);
    // Stale: cancelled, timed out, or not this worker's request.
    if (!c || c->done() || c->worker != id || w == workers_.end() || !w->second.in_flight.contains(c->id)) return;

    const auto kind = frame.header.kind;
    ResponseRelay::Result result;
    if (kind == proto::toWire(proto::Kind::Response)) {
        result = relay_.onHead(c, frame, base::monotonicNs());
    } else if (proto::isContinuation(frame.header)) {
        result = relay_.onBody(c, frame);
    } else if (kind == proto::toWire(proto::Kind::Error)) {
        const auto reason = proto::decodeReason(frame.head);
        base::logWarn("worker", c->app.key + " request " + c->client->head().request_id + " failed: " + reason);
        fail(c, Reply::AppError, clientSafeReason(reason), pool::Outcome::AppError, now);
        return;
    } else {
        base::logWarn("ipc",
                      "worker " + c->app.key + " sent an unknown frame kind " + std::to_string(kind) + "; dropped");
        return;
    }
    switch (result.step) {
    case ResponseRelay::Step::More: return;
    case ResponseRelay::Step::Complete: return finish(c, result.outcome, now);
    case ResponseRelay::Step::Malformed:
        base::logError("ipc", "worker " + c->app.key + " sent a malformed response head; retiring it");
        fail(c, Reply::BadWorkerResponse, "the worker sent a malformed response", pool::Outcome::AppError, now);
        apply(pool_.markUnhealthy(id, now), now);
        return;
    }
}

void Dispatcher::onWorkerExit(pool::WorkerId id, const WorkerExit& exit, base::TimePoint now) {
    auto node = workers_.extract(id);
    if (node.empty()) return;
    const WorkerCalls& wc = node.mapped();
    const std::string who = "worker " + wc.key + " pid=" + std::to_string(exit.pid);

    if (!exit.was_ready) {
        if (wc.start_failed) return;  // its start timed out: its requests were answered then
        const std::string reason =
            clientSafeReason(exit.failure.empty() ? "worker exited during start (" + exit.how + ")" : exit.failure);
        if (!exit.expected) noteStartFailure(wc.key, reason, now);  // not when we stopped it ourselves
        if (wc.ephemeral) {
            if (auto c = call(wc.ephemeral_call)) fail(c, Reply::WorkerInitFailed, reason, pool::Outcome::Crash, now);
            return;
        }
        applyFailingParked(pool_.onSpawnFailed(id, now), Reply::WorkerInitFailed, reason, now);
        return;
    }

    if (!exit.expected)
        base::logError("proc",
                       who + " " + exit.how + " with " + std::to_string(wc.in_flight.size()) + " request(s) in flight");
    else if (wc.ephemeral)
        base::logDebug("proc", "ephemeral " + who + " " + exit.how);
    else
        base::logInfo("proc", who + " " + exit.how);

    std::vector<std::uint64_t> lost(wc.in_flight.begin(), wc.in_flight.end());
    if (wc.ephemeral && wc.ephemeral_call && !wc.in_flight.contains(wc.ephemeral_call))
        lost.push_back(wc.ephemeral_call);
    pool::Effects fx;
    if (!wc.ephemeral) fx = pool_.onWorkerExited(id, now, !exit.expected).effects;  // accounts the lost requests
    const std::string message =
        wc.unresponsive ? "the worker for " + wc.key + " stopped responding (no answer to a liveness ping within " +
                              std::to_string(options_.worker_ping.count()) + " ms) and was killed"
                        : "the worker for " + wc.key + " exited (" + exit.how + ") before answering";
    const auto reply = wc.unresponsive ? Reply::WorkerUnresponsive : Reply::WorkerCrashed;
    for (auto cid : lost) {
        auto c = call(cid);
        if (!c) continue;
        if (!wc.ephemeral) c->worker = 0;  // already accounted by onWorkerExited
        fail(c, reply, message, pool::Outcome::Crash, now);
    }
    apply(std::move(fx), now);
}

// Start timeouts, and liveness pings to ready workers that have requests in flight: a
// worker that sends no frame (Pong or other) within worker_ping of a Ping is killed, and its
// exit answers its requests 502 WORKER_UNRESPONSIVE.
void Dispatcher::watchWorkers(base::TimePoint now) {
    std::vector<pool::WorkerId> late, silent;
    const auto ping = options_.worker_ping;
    for (auto& [id, wc] : workers_) {
        if (!wc.ready) {
            if (!wc.start_failed && now >= wc.start_deadline) late.push_back(id);
            continue;
        }
        if (ping.count() <= 0 || wc.in_flight.empty() || wc.terminating || wc.unresponsive) {
            wc.ping_token = 0;
            continue;
        }
        bool paused = false;  // its frames wait in a ring we do not read now: no answer expected
        for (auto cid : wc.in_flight)
            if (auto c = call(cid); c && c->paused_worker) paused = true;
        if (paused) {
            wc.ping_token = 0;
            continue;
        }
        if (wc.ping_token == 0) {
            if (now - wc.last_heard < ping) continue;
            wc.ping_token = next_ping_token_++;
            wc.ping_sent = now;
            const auto token = proto::encodeToken(wc.ping_token);
            host_.send(id, proto::frame(proto::Kind::Ping, 0, token));
        } else if (now - wc.ping_sent >= ping) {
            silent.push_back(id);
        }
    }
    for (auto id : late) onStartTimeout(id, now);
    for (auto id : silent) {
        auto it = workers_.find(id);
        if (it == workers_.end()) continue;
        it->second.unresponsive = true;
        base::logError("proc", "worker " + it->second.key + " pid=" + std::to_string(host_.pid(id)) +
                                   " sent nothing within " + std::to_string(ping.count()) + " ms of a ping, with " +
                                   std::to_string(it->second.in_flight.size()) +
                                   " request(s) in flight; killing it (SIGKILL)");
        host_.kill(id);
    }
}

void Dispatcher::onStartTimeout(pool::WorkerId id, base::TimePoint now) {
    auto it = workers_.find(id);
    if (it == workers_.end()) return;
    it->second.start_failed = true;
    const std::string key = it->second.key;
    const bool ephemeral = it->second.ephemeral;
    const auto call_id = it->second.ephemeral_call;
    const std::string reason = key + " did not start within its startTimeout of " +
                               std::to_string(it->second.start_timeout.count()) + " ms; its worker was killed";
    base::logError("proc", reason + " (pid " + std::to_string(host_.pid(id)) + ")");
    host_.kill(id);
    noteStartFailure(key, reason, now);
    if (ephemeral) {
        if (auto c = call(call_id)) fail(c, Reply::WorkerStartTimeout, reason, pool::Outcome::Crash, now);
        return;
    }
    applyFailingParked(pool_.onSpawnFailed(id, now), Reply::WorkerStartTimeout, reason, now);
}

}  // namespace buntime::supervisor
