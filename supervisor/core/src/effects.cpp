// SPDX-License-Identifier: MIT
// The worker side of the dispatcher: carrying out the pool's effects, and the events of
// worker processes (ready, frames, exit).
#include "buntime/base/log.h"
#include "buntime/proto/control.h"
#include "buntime/proto/stream.h"
#include "dispatcher.h"

namespace buntime::supervisor {

void Dispatcher::apply(pool::Effects fx, base::TimePoint now) {
    for (auto& a : fx.actions) {
        switch (a.kind) {
        case pool::ActionKind::Spawn: {
            auto it = key_apps_.find(a.key);
            if (it != key_apps_.end() && spawnWorker(a.worker, it->second.first, it->second.second, 0)) break;
            applyFailingParked(pool_.onSpawnFailed(a.worker, now), Reply::WorkerSpawnFailed,
                               "could not start a worker for " + a.key, now);
            break;
        }
        case pool::ActionKind::Terminate:
            base::logInfo("pool", "retiring worker " + a.key + " pid=" + std::to_string(host_.pid(a.worker)) + " (" +
                                      std::string(pool::toString(a.reason)) + ")");
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
    if (it == workers_.end()) return;
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
    auto c = call(frame.header.request_id);
    auto w = workers_.find(id);
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
        const std::string reason =
            clientSafeReason(exit.failure.empty() ? "worker exited during start (" + exit.how + ")" : exit.failure);
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
    const std::string message = "the worker for " + wc.key + " exited (" + exit.how + ") before answering";
    for (auto cid : lost) {
        auto c = call(cid);
        if (!c) continue;
        if (!wc.ephemeral) c->worker = 0;  // already accounted by onWorkerExited
        fail(c, Reply::WorkerCrashed, message, pool::Outcome::Crash, now);
    }
    apply(std::move(fx), now);
}

}  // namespace buntime::supervisor
