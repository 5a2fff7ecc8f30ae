// SPDX-License-Identifier: MIT
// An embeddable supervisor: the same runtime as the `buntime` binary, started in-process
// on its own event-loop thread. The perf harness uses it for `http` and `direct` modes.
//
// Thread-safety: start/stop from one thread; direct(), metrics() and ipcCounters() may be
// called from any thread.
#pragma once

#include "buntime/admin/schema.h"

#include "buntime/base/expected.h"
#include "buntime/supervisor/config.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace buntime::supervisor {

// The supervisor's defaults for an embedded runtime: 127.0.0.1 on a free port, no access
// log, log level warn unless RUNTIME_LOG_LEVEL says otherwise. worker_dirs is left empty.
SupervisorConfig embeddedConfig();

struct DirectRequest {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct DirectResponse {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct IpcCounters {
    std::uint64_t messages_to_worker = 0;
    std::uint64_t messages_to_supervisor = 0;
    std::uint64_t bytes_to_worker = 0;
    std::uint64_t bytes_to_supervisor = 0;
    std::uint64_t wakeups = 0;
    std::uint64_t spin_hits = 0;
    std::uint64_t sleeps = 0;
    std::uint64_t full_stalls = 0;
    double ring_ns_per_request_in = 0;   // request enqueued → worker dequeued
    double ring_ns_per_request_out = 0;  // response enqueued → supervisor dequeued
    double app_ns_per_request = 0;       // handler time inside the worker
};

class Supervisor;

class Runtime {
public:
    explicit Runtime(SupervisorConfig config);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    base::Expected<void, std::string> start();  // the error says why it could not start
    std::uint16_t port() const;
    void stop();

    void direct(DirectRequest request, std::function<void(DirectResponse)> done);
    admin::MetricsView metrics() const;
    IpcCounters ipcCounters() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace buntime::supervisor
