// SPDX-License-Identifier: MIT
// The supervisor: serves HTTP, routes each request to an app, keeps the worker pool and
// the ephemeral gate, and moves requests and responses through each worker's shm rings.
//
// Threading: all state lives on the core loop (the HTTP server's loop 0); requests that
// arrive on other loops, direct-mode calls and admin reads are posted to it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "buntime/admin/schema.h"
#include "buntime/base/expected.h"
#include "buntime/supervisor/client.h"
#include "buntime/supervisor/config.h"
#include "buntime/supervisor/runtime.h"

namespace buntime::supervisor {

class Supervisor {
public:
    // `environment` is what workers inherit (minus secrets), usually currentEnvironment().
    Supervisor(SupervisorConfig config, std::vector<std::string> environment);
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Takes the state-dir lock, binds the listeners, starts timers and signal handling
    // (if `handle_signals`). The error is a message for the operator.
    base::Expected<void, std::string> start(bool handle_signals);
    // Runs the event loops on the calling thread until shutdown completes.
    void run();
    // Runs the event loops on internal threads; join() waits for them.
    void runInThreads();
    void join();
    // Graceful stop (what SIGTERM does): drain, terminate workers, exit the loops.
    void requestShutdown();
    // What SIGHUP does: drop caches, re-read manifests, recycle workers gracefully.
    void reload();

    std::uint16_t port() const;
    // Enters the dispatcher with an in-memory client (thread-safe).
    void submit(std::shared_ptr<Client> client);
    // Thread-safe snapshots (posted to the core loop and awaited).
    admin::MetricsView metrics();
    IpcCounters ipcCounters();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace buntime::supervisor
