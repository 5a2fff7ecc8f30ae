// SPDX-License-Identifier: MIT
// The request side of the dispatcher: accept, admission, sending, body streaming, the end
// of a call. The worker side (pool effects, worker events) is in effects.cpp.
#include "dispatcher.h"

#include "buntime/admin/routes.h"
#include "buntime/base/log.h"
#include "buntime/proto/control.h"
#include "buntime/proto/stream.h"
#include "request_mapping.h"

namespace buntime::supervisor {

Dispatcher::Dispatcher(router::Router& router, pool::WorkerPool& pool, WorkerHost& host, IpcStats& stats,
                       DispatcherOptions options)
    : router_(router), pool_(pool), host_(host), options_(std::move(options)), relay_(host, stats) {}

Dispatcher::CallPtr Dispatcher::call(std::uint64_t id) const {
    auto it = calls_.find(id);
    return it == calls_.end() ? nullptr : it->second;
}

void Dispatcher::reply(const std::shared_ptr<Client>& client, Reply reply, std::string_view message) {
    const auto& spec = specOf(reply);
    client->respond(spec.status, errorHeaders(spec), errorBody(spec.code, message));
}

void Dispatcher::accept(std::shared_ptr<Client> client, base::TimePoint now) {
    const auto& head = client->head();
    const std::string* host = head.find("host");  // virtual hosts (manifest `hosts`)
    auto route = router_.route(head.target, host ? std::string_view(*host) : std::string_view(), now);
    if (route.status == router::RouteStatus::Reserved) {
        const bool admin_path =
            options_.admin_path ? options_.admin_path(head.target) : admin::AdminApi::isAdminPath(head.target);
        if (admin_path && options_.admin)
            options_.admin(client);
        else
            reply(client, Reply::ReservedPath, "reserved path");
        return;
    }
    if (draining_ && route.target.kind == router::TargetKind::App) {
        reply(client, Reply::ShuttingDown, "the supervisor is shutting down");
        return;
    }
    switch (route.status) {
    case router::RouteStatus::BadRequest: return reply(client, Reply::BadTarget, route.message);
    case router::RouteStatus::NotFound:
        return reply(client, route.target.kind == router::TargetKind::App ? Reply::AppNotFound : Reply::NoAppInPath,
                     route.message);
    case router::RouteStatus::ServerError:
        base::logError("router", route.message);
        return reply(client, Reply::AppConfigError, clientSafeReason(route.message));
    case router::RouteStatus::Reserved:
    case router::RouteStatus::Ok: break;
    }

    const auto& config = route.manifest->config;
    client->setBodyLimit(config.max_body_size);
    if (head.content_length && *head.content_length > config.max_body_size) return;  // 413 already sent

    auto c = std::make_shared<Call>();
    c->id = next_call_id_++;
    c->client = std::move(client);
    c->app = std::move(route.app);
    c->manifest = std::move(route.manifest);
    c->target = std::move(route.target);
    c->ephemeral = config.ephemeral();
    c->started = now;
    c->deadline = now + config.timeout;
    c->client->setLogFields(c->app.key, 0);
    calls_.emplace(c->id, c);
    c->client->onClientGone([this, id = c->id] { onClientGone(id); });
    // A small body is read whole first: a client that is slow to send it (or leaves) holds
    // no worker slot and starts no worker.
    if (const auto& h = c->client->head(); hasBody(h) && !h.chunked && *h.content_length <= kSingleFrameBody) {
        c->state = CallState::Receiving;  // memory grows with the bytes received, not the declared length
        receiveBody(c);
        return;
    }
    dispatch(c, now);
}

void Dispatcher::receiveBody(const CallPtr& c) {
    c->client->readBody([this, c](const http::BodyEvent& ev) {
        if (c->done()) return;
        if (ev.status == http::BodyStatus::Data) {
            c->body.append(reinterpret_cast<const char*>(ev.data.data()), ev.data.size());
            receiveBody(c);
            return;
        }
        const auto now = options_.clock();
        if (ev.status != http::BodyStatus::End) {
            // The HTTP layer already answered (400/408/413) or the client left.
            finish(c, pool::Outcome::Ok, now);
            return;
        }
        c->body_complete = true;
        dispatch(c, now);
    });
}

void Dispatcher::noteStartFailure(const std::string& key, const std::string& reason, base::TimePoint now) {
    auto& b = backoff_[key];
    ++b.failures;
    auto delay = options_.start_backoff_min;
    for (unsigned i = 1; i < b.failures && delay < options_.start_backoff_max; ++i) delay *= 2;
    delay = std::min(delay, options_.start_backoff_max);
    b.retry_at = now + delay;
    b.reason = reason;
    base::logWarn("pool", key + " failed to start (" + std::to_string(b.failures) + " in a row); no new start for " +
                              std::to_string(delay.count()) + " ms");
}

bool Dispatcher::refuseWhileBackingOff(const CallPtr& c, base::TimePoint now) {
    auto it = backoff_.find(c->app.key);
    if (it == backoff_.end() || now >= it->second.retry_at) return false;
    const auto& b = it->second;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(b.retry_at - now);
    const auto& spec = specOf(Reply::StartBackoff);
    auto headers = errorHeaders(spec);
    headers.emplace_back("retry-after", std::to_string(std::max<long long>(1, (left.count() + 999) / 1000)));
    c->client->respond(spec.status, std::move(headers),
                       errorBody(spec.code, c->app.key + " failed to start " + std::to_string(b.failures) +
                                                " time(s) in a row; next attempt in " + std::to_string(left.count()) +
                                                " ms. Last failure: " + b.reason));
    finish(c, pool::Outcome::Ok, now);
    return true;
}

void Dispatcher::dispatch(const CallPtr& c, base::TimePoint now) {
    if (refuseWhileBackingOff(c, now)) return;
    if (c->ephemeral) {
        auto& gate = pool_.ephemeralGate();
        switch (gate.tryEnter(c->id)) {
        case pool::GateDecision::Admitted: return startEphemeral(c, now);
        case pool::GateDecision::Queued: c->state = CallState::Queued; return;
        case pool::GateDecision::Rejected:
            return fail(c, Reply::EphemeralQueueFull,
                        "ephemeral queue is full (" + std::to_string(gate.queueDepth()) + "/" +
                            std::to_string(gate.queueLimit()) + " waiting, " + std::to_string(gate.concurrency()) +
                            " running); retry later",
                        pool::Outcome::Ok, now);
        }
        return;
    }
    const auto& cfg = c->manifest->config;
    pool::WorkerPolicy policy;
    policy.ttl = cfg.ttl;
    policy.idle_timeout = cfg.idle_timeout;
    policy.timeout = cfg.timeout;
    policy.max_requests = cfg.max_requests;
    policy.concurrency = cfg.concurrency;
    policy.start_timeout = cfg.start_timeout;
    key_apps_[c->app.key] = {c->app, c->manifest};
    c->state = CallState::Parked;  // until a grant, a Use or a failure
    auto result = pool_.acquire(c->app.key, policy, c->id, now);
    apply(std::move(result.effects), now);
    if (c->done()) return;
    switch (result.kind) {
    case pool::AcquireKind::Use: return sendToWorker(c, result.worker, now);
    case pool::AcquireKind::Spawn:
    case pool::AcquireKind::Wait: return;  // parked: a grant or a failure comes through apply()
    case pool::AcquireKind::Rejected:
        c->state = CallState::Routing;  // not parked: nothing to cancel in the pool
        return fail(c, Reply::WorkerQueueFull, "too many requests waiting for " + c->app.key, pool::Outcome::Ok, now);
    }
}

void Dispatcher::startEphemeral(const CallPtr& c, base::TimePoint now) {
    c->state = CallState::Spawning;  // holds the gate slot it was given, until finish()
    c->worker = 0;
    if (refuseWhileBackingOff(c, now)) return;
    const auto id = pool_.onEphemeralStart(c->app.key, now);
    c->worker = id;
    if (!spawnWorker(id, c->app, c->manifest, c->id, now))
        fail(c, Reply::WorkerSpawnFailed, backoff_[c->app.key].reason, pool::Outcome::Crash, now);
}

bool Dispatcher::spawnWorker(pool::WorkerId id, const router::ResolvedApp& app,
                             const std::shared_ptr<const router::Manifest>& manifest, std::uint64_t ephemeral_call,
                             base::TimePoint now) {
    auto& wc = workers_[id];
    wc.key = app.key;
    wc.ephemeral = ephemeral_call != 0;
    wc.ephemeral_call = ephemeral_call;
    wc.start_timeout = manifest->config.start_timeout;
    wc.start_deadline = now + wc.start_timeout;
    if (host_.spawn(id, app, manifest, wc.ephemeral)) return true;
    workers_.erase(id);
    // The host's reason (a missing JavaScript runtime, say) reaches the client through b.reason.
    const std::string why = host_.spawnFailure();
    noteStartFailure(
        app.key, "could not start a worker for " + app.key + (why.empty() ? "" : ": " + clientSafeReason(why)), now);
    return false;
}

void Dispatcher::sendToWorker(const CallPtr& c, pool::WorkerId worker, base::TimePoint now) {
    c->state = CallState::Sent;
    c->worker = worker;
    if (auto it = workers_.find(worker); it != workers_.end()) it->second.in_flight.insert(c->id);
    c->client->setLogFields(c->app.key, host_.pid(worker));

    const auto& head = c->client->head();
    c->sent_ns = base::monotonicNs();  // a measurement for the IPC breakdown, not a decision
    auto encoded = proto::encode(toProtoHead(head, c->target, c->sent_ns));
    if (!hasBody(head) || c->body_complete) {
        // A small body was read before admission and travels in the request's first frame.
        const bool sent =
            host_.send(worker, proto::frame(proto::Kind::Request, c->id, encoded, proto::bytesOf(c->body)));
        std::string().swap(c->body);
        if (!sent)
            fail(c, Reply::WorkerVanished, "worker vanished before the request was sent", pool::Outcome::Crash, now);
        return;
    }
    if (!host_.send(worker, proto::frame(proto::Kind::Request, c->id, encoded, {}, proto::kFlagMore))) {
        fail(c, Reply::WorkerVanished, "worker vanished before the request was sent", pool::Outcome::Crash, now);
        return;
    }
    streamBody(c);
}

void Dispatcher::streamBody(const CallPtr& c) {
    if (c->done()) return;
    c->client->readBody([this, c](const http::BodyEvent& ev) {
        if (c->done()) return;
        if (ev.status == http::BodyStatus::Data) {
            if (!host_.send(c->worker, {proto::kContinuationKind, proto::kFlagMore, c->id, {}, ev.data})) return;
            if (host_.pendingBytes(c->worker) > kPendingSendLimit) {
                // The worker reads slower than the client sends: stop reading the socket.
                host_.whenDrained(c->worker, [this, c] { streamBody(c); });
            } else {
                streamBody(c);
            }
            return;
        }
        if (ev.status == http::BodyStatus::End) {
            host_.send(c->worker, {proto::kContinuationKind, 0, c->id, {}, {}});
            return;
        }
        // 413 or a broken client: the HTTP layer answered or closed; tell the worker.
        cancelInWorker(*c);
        finish(c, pool::Outcome::Ok, options_.clock());
    });
}

void Dispatcher::cancelInWorker(const Call& c) {
    if (!c.worker) return;
    host_.send(c.worker, proto::frame(proto::Kind::Cancel, c.id));
    if (auto it = workers_.find(c.worker); it != workers_.end()) it->second.in_flight.erase(c.id);
}

void Dispatcher::fail(const CallPtr& c, Reply r, std::string_view message, pool::Outcome outcome, base::TimePoint now) {
    if (c->done()) return;
    if (c->state == CallState::Responding)
        c->client->abort();
    else
        reply(c->client, r, message);
    finish(c, outcome, now);
}

void Dispatcher::failTickets(const std::vector<pool::Ticket>& tickets, Reply r, std::string_view message,
                             base::TimePoint now) {
    for (auto ticket : tickets) {
        if (auto c = call(ticket)) {
            c->worker = 0;
            fail(c, r, message, pool::Outcome::Ok, now);
        }
    }
}

void Dispatcher::finish(const CallPtr& c, pool::Outcome outcome, base::TimePoint now) {
    if (c->done()) return;
    const auto previous = c->state;
    const bool held_gate_slot = c->holdsGateSlot();
    c->state = CallState::Done;
    calls_.erase(c->id);
    relay_.release(*c);
    if (auto it = workers_.find(c->worker); it != workers_.end()) it->second.in_flight.erase(c->id);
    const double duration_ms = base::msBetween(c->started, now);

    if (c->ephemeral) {
        if (held_gate_slot) {
            if (c->worker) {
                pool_.onEphemeralEnd(c->worker, now, duration_ms, outcome);
                host_.terminate(c->worker, std::chrono::milliseconds(0));
            }
            if (auto next_id = pool_.ephemeralGate().leave()) {
                if (auto next = call(*next_id)) startEphemeral(next, now);
            }
        } else if (previous == CallState::Queued) {
            pool_.ephemeralGate().cancel(c->id);
        }
        return;
    }
    if (previous == CallState::Parked) {
        pool_.cancelWait(c->id);
        return;
    }
    if (c->worker) apply(pool_.onRequestEnd(c->worker, now, duration_ms, outcome), now);
    // Between requests: a worker grown past its memory threshold is replaced (reload-on-rss).
    if (c->worker && inFlight(c->worker) == 0 && host_.overMemory(c->worker))
        apply(pool_.markUnhealthy(c->worker, now), now);
}

void Dispatcher::tick(base::TimePoint now) {
    expired_.clear();
    for (const auto& [id, c] : calls_)
        if (c->deadline <= now) expired_.push_back(c);
    for (const auto& c : expired_) onDeadline(c, now);
    expired_.clear();
    watchWorkers(now);
    if (auto next = pool_.nextCheckAt(); next && *next <= now) apply(pool_.tick(now), now);
}

void Dispatcher::onDeadline(const CallPtr& c, base::TimePoint now) {
    if (c->done()) return;
    const std::string message = "request to " + c->app.key + " exceeded its timeout of " +
                                std::to_string(c->manifest->config.timeout.count()) + " ms";
    const bool with_worker = c->worker && !c->waiting();
    base::logWarn("pool", message + (with_worker ? " (worker pid " + std::to_string(host_.pid(c->worker)) + ")"
                                     : c->state == CallState::Receiving ? " while receiving the request body"
                                                                        : " while waiting for a worker"));
    if (with_worker) {
        if (c->ephemeral)
            host_.kill(c->worker);
        else
            cancelInWorker(*c);
    }
    fail(c, Reply::GatewayTimeout, message, with_worker ? pool::Outcome::Timeout : pool::Outcome::Ok, now);
}

void Dispatcher::onClientGone(std::uint64_t id) {
    auto c = call(id);
    if (!c || c->done()) return;
    if (c->worker && !c->waiting()) {
        if (c->ephemeral)
            host_.kill(c->worker);
        else
            cancelInWorker(*c);  // a late answer is dropped as stale
    }
    finish(c, pool::Outcome::Ok, options_.clock());
}

void Dispatcher::beginDrain(base::TimePoint now) {
    draining_ = true;
    // Queued ephemeral requests will not get a worker any more.
    failTickets(pool_.ephemeralGate().clearQueue(), Reply::ShuttingDown, "the supervisor is shutting down", now);
}

void Dispatcher::failAll(base::TimePoint now) {
    draining_ = true;
    std::vector<CallPtr> open;
    open.reserve(calls_.size());
    for (const auto& [id, c] : calls_) open.push_back(c);
    for (const auto& c : open) fail(c, Reply::ShuttingDown, "the supervisor is shutting down", pool::Outcome::Ok, now);
    auto fx = pool_.shutdown(now);
    for (auto& a : fx.actions)
        if (a.kind == pool::ActionKind::Spawn) a.kind = pool::ActionKind::NotifyIdle;  // never spawn now
    applyFailingParked(std::move(fx), Reply::ShuttingDown, "the supervisor is shutting down", now);
}

}  // namespace buntime::supervisor
