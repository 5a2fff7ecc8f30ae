// SPDX-License-Identifier: MIT
// The request lifecycle: route, admit through the pool or the ephemeral gate, send to a
// worker, stream the body, relay the response, and end every call exactly once (answer,
// error, deadline or client gone) with the pool told how it went.
//
// It reads no clock: entry points take `now`, and callbacks that arrive on their own
// (request body pieces, a client leaving) ask the clock given at construction. It reaches
// workers only through WorkerHost and hears from them through WorkerEvents, so tests drive
// it with a fake host, a fake client and a fake clock.
//
// Thread-safety: single-threaded; everything runs on the supervisor's core loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "buntime/base/clock.h"
#include "buntime/pool/worker_pool.h"
#include "buntime/router/router.h"
#include "buntime/supervisor/client.h"
#include "call.h"
#include "ipc_stats.h"
#include "replies.h"
#include "response_relay.h"
#include "worker_host.h"

namespace buntime::supervisor {

struct DispatcherOptions {
    std::chrono::milliseconds terminate_grace{5000};  // RUNTIME_TERMINATE_GRACE_MS
    std::chrono::milliseconds worker_ping{1000};      // RUNTIME_WORKER_PING_MS; 0: no pings
    // Start backoff per app: after n failed starts in a row, no new start for
    // min(start_backoff_min * 2^(n-1), start_backoff_max); a start that succeeds resets it.
    std::chrono::milliseconds start_backoff_min{100};
    std::chrono::milliseconds start_backoff_max{30000};
    std::function<base::TimePoint()> clock;                     // for callbacks that carry no `now`
    std::function<void(const std::shared_ptr<Client>&)> admin;  // serves /_/… admin paths
    // Which reserved targets `admin` answers (RUNTIME_API_PREFIX, /.well-known/buntime); unset:
    // admin::AdminApi::isAdminPath. The other reserved paths answer 404.
    std::function<bool(std::string_view target)> admin_path;
};

class Dispatcher final : public WorkerEvents {
public:
    // Request body bytes queued for a worker before the client's socket stops being read.
    static constexpr std::size_t kPendingSendLimit = 1 << 20;
    // Bodies up to this size are read whole, before the request takes a worker slot, and
    // sent in the request's first frame.
    static constexpr std::size_t kSingleFrameBody = 64 * 1024;

    Dispatcher(router::Router& router, pool::WorkerPool& pool, WorkerHost& host, IpcStats& stats,
               DispatcherOptions options);

    // A request arrives (HTTP or direct mode).
    void accept(std::shared_ptr<Client> client, base::TimePoint now);
    // Deadlines of calls and the pool's health checks; called every ~50 ms.
    void tick(base::TimePoint now);
    // Carries out the pool's decisions: spawns, retirements, kills, idle notices, grants and
    // failures of parked requests.
    void apply(pool::Effects effects, base::TimePoint now);

    // Shutdown, first step: new app requests get 503 and queued ephemeral requests fail.
    void beginDrain(base::TimePoint now);
    bool draining() const noexcept { return draining_; }
    // Shutdown, last step: every open call fails with 503 and the pool retires everything.
    void failAll(base::TimePoint now);

    std::size_t openCalls() const noexcept { return calls_.size(); }
    // Requests a worker is serving now.
    std::size_t inFlight(pool::WorkerId id) const noexcept {
        auto it = workers_.find(id);
        return it == workers_.end() ? 0 : it->second.in_flight.size();
    }

    // WorkerEvents
    void onWorkerReady(pool::WorkerId id, base::TimePoint now) override;
    void onWorkerFrame(pool::WorkerId id, const shm::FrameView& frame, base::TimePoint now) override;
    void onWorkerExit(pool::WorkerId id, const WorkerExit& exit, base::TimePoint now) override;

private:
    using CallPtr = std::shared_ptr<Call>;

    // The requests of one worker process, and what the dispatcher watches about it.
    struct WorkerCalls {
        std::string key;
        bool ephemeral = false;
        std::uint64_t ephemeral_call = 0;  // the one call an ephemeral worker serves
        std::unordered_set<std::uint64_t> in_flight;
        bool ready = false;
        bool terminating = false;        // Terminate sent: it finishes its requests and exits
        bool start_failed = false;       // its start already counted as failed (start timeout)
        bool unresponsive = false;       // killed for a missed ping
        base::TimePoint start_deadline;  // Ready by then (the manifest's startTimeout)
        std::chrono::milliseconds start_timeout{0};
        base::TimePoint last_heard;    // Ready or the last frame it sent
        std::uint64_t ping_token = 0;  // the outstanding Ping (0: none)
        base::TimePoint ping_sent;
    };
    // Consecutive failed starts of one app (name@version) and when the next may begin.
    struct StartBackoff {
        unsigned failures = 0;
        base::TimePoint retry_at;
        std::string reason;  // the last failure
    };

    CallPtr call(std::uint64_t id) const;
    void receiveBody(const CallPtr& call);
    void dispatch(const CallPtr& call, base::TimePoint now);
    void startEphemeral(const CallPtr& call, base::TimePoint now);
    bool spawnWorker(pool::WorkerId id, const router::ResolvedApp& app,
                     const std::shared_ptr<const router::Manifest>& manifest, std::uint64_t ephemeral_call,
                     base::TimePoint now);
    void sendToWorker(const CallPtr& call, pool::WorkerId worker, base::TimePoint now);
    // Start backoff: a failed start of `key`; true (and the call answered 503) while backing off.
    void noteStartFailure(const std::string& key, const std::string& reason, base::TimePoint now);
    bool refuseWhileBackingOff(const CallPtr& call, base::TimePoint now);
    // Start timeouts and liveness pings (from tick()).
    void watchWorkers(base::TimePoint now);
    void onStartTimeout(pool::WorkerId id, base::TimePoint now);
    void streamBody(const CallPtr& call);
    void cancelInWorker(const Call& call);
    void reply(const std::shared_ptr<Client>& client, Reply reply, std::string_view message);
    void fail(const CallPtr& call, Reply reply, std::string_view message, pool::Outcome outcome, base::TimePoint now);
    void failTickets(const std::vector<pool::Ticket>& tickets, Reply reply, std::string_view message,
                     base::TimePoint now);
    // Fails the effects' parked tickets with `reply`, then carries out the rest.
    void applyFailingParked(pool::Effects effects, Reply reply, std::string_view message, base::TimePoint now);
    void finish(const CallPtr& call, pool::Outcome outcome, base::TimePoint now);
    void onDeadline(const CallPtr& call, base::TimePoint now);
    void onClientGone(std::uint64_t id);

    router::Router& router_;
    pool::WorkerPool& pool_;
    WorkerHost& host_;
    DispatcherOptions options_;
    ResponseRelay relay_;
    std::unordered_map<std::uint64_t, CallPtr> calls_;
    std::unordered_map<pool::WorkerId, WorkerCalls> workers_;
    // What a replacement spawn for a key needs (the pool names only the key).
    std::unordered_map<std::string, std::pair<router::ResolvedApp, std::shared_ptr<const router::Manifest>>> key_apps_;
    std::unordered_map<std::string, StartBackoff> backoff_;
    std::uint64_t next_call_id_ = 1;
    std::uint64_t next_ping_token_ = 1;
    bool draining_ = false;
    std::vector<CallPtr> expired_;  // scratch for tick()
};

}  // namespace buntime::supervisor
