// SPDX-License-Identifier: MIT
// The dispatcher's view of worker processes: it asks a WorkerHost to start, feed and stop
// them, and hears back through WorkerEvents. The real host (AsioWorkerHost) runs processes
// and shm links; tests use a fake one, so the request lifecycle runs without processes.
//
// Thread-safety: both interfaces are used on the supervisor's core loop only.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "buntime/base/clock.h"
#include "buntime/pool/types.h"
#include "buntime/router/manifest.h"
#include "buntime/router/resolver.h"
#include "buntime/shm/channel.h"

namespace buntime::supervisor {

class WorkerHost {
public:
    virtual ~WorkerHost() = default;

    // Starts a worker for `app` under `id`. False (the reason logged) when no process
    // could be started; the caller answers its requests.
    virtual bool spawn(pool::WorkerId id, const router::ResolvedApp& app,
                       const std::shared_ptr<const router::Manifest>& manifest, bool ephemeral) = 0;
    // Why the last spawn() returned false ("" when the host does not say).
    virtual std::string spawnFailure() const { return {}; }
    // Writes the frame into the worker's ring, or queues it while the ring is full (never
    // blocks). A body larger than one frame is split. False when the worker is gone.
    virtual bool send(pool::WorkerId id, const shm::Outgoing& frame) = 0;
    // Request bytes queued for the worker and not yet in its ring.
    virtual std::size_t pendingBytes(pool::WorkerId id) const = 0;
    // Runs `callback` once the queue is empty (at once when it is already).
    virtual void whenDrained(pool::WorkerId id, std::function<void()> callback) = 0;
    // Backpressure from a slow client: stop/restart reading the worker's response ring.
    virtual void pauseReading(pool::WorkerId id) = 0;
    virtual void resumeReading(pool::WorkerId id) = 0;
    // Sends Terminate once (onTerminate hook, then exit); an exit that follows is not a crash.
    virtual void terminate(pool::WorkerId id, std::chrono::milliseconds grace) = 0;
    virtual void kill(pool::WorkerId id) = 0;
    virtual int pid(pool::WorkerId id) const = 0;  // 0 when unknown
    // True when the worker's resident memory has passed its recycle threshold (a share of
    // its memory cap; checked at most every kRssCheckInterval per worker). The dispatcher
    // asks between requests and retires it, like uWSGI's reload-on-rss.
    virtual bool overMemory(pool::WorkerId /*id*/) { return false; }
};

struct WorkerExit {
    int pid = 0;
    std::string how;         // "exited with status 1", "killed by SIGSEGV"
    bool was_ready = false;  // it had sent Ready
    bool expected = false;   // Terminate or a kill was sent first: not a crash
    std::string failure;     // InitFailed reason or protocol error, when there was one
};

class WorkerEvents {
public:
    virtual ~WorkerEvents() = default;
    virtual void onWorkerReady(pool::WorkerId id, base::TimePoint now) = 0;
    // A frame about a request (Response, continuation, Error, or an unknown kind). The
    // view is valid during the call only.
    virtual void onWorkerFrame(pool::WorkerId id, const shm::FrameView& frame, base::TimePoint now) = 0;
    virtual void onWorkerExit(pool::WorkerId id, const WorkerExit& exit, base::TimePoint now) = 0;
};

}  // namespace buntime::supervisor
