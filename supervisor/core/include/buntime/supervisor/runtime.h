// SPDX-License-Identifier: MIT
// An embeddable supervisor: the same runtime as the `buntime` binary, started in-process
// on its own event-loop thread. The perf harness uses it for `http` and `direct` modes.
//
// Thread-safety: start/stop from one thread; direct(), metrics() and ipcCounters() may be
// called from any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace buntime::supervisor {

struct RuntimeOptions {
    std::vector<std::string> worker_dirs;   // RUNTIME_WORKER_DIRS
    std::size_t pool_size = 100;
    unsigned ephemeral_concurrency = 2;
    unsigned ephemeral_queue_limit = 100;
    std::uint16_t port = 0;                 // 0 = a random free port
    std::string bind = "127.0.0.1";
    std::string access_log = "off";
    std::string worker_binary;              // "" = buntime-worker next to the executable or in the build tree
};

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
    explicit Runtime(RuntimeOptions options);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    std::string start();  // "" on success, else the reason
    std::uint16_t port() const;
    void stop();

    void direct(DirectRequest request, std::function<void(DirectResponse)> done);
    nlohmann::json metrics() const;
    IpcCounters ipcCounters() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace buntime::supervisor
