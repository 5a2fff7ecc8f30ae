// SPDX-License-Identifier: MIT
// A fixed-size pool of handler threads fed by one FIFO queue. The threads start with the
// first post(): a worker whose handlers never leave the I/O thread (async-style apps, an
// ephemeral worker's one request) pays for no thread creation.
//
// Thread-safety: post() may be called from any thread. The destructor stops the threads
// after the queued jobs ran.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace buntime::worker {

class ThreadPool {
public:
    using Fn = void (*)(void* arg) noexcept;

    explicit ThreadPool(std::uint32_t threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    void post(Fn fn, void* arg);

private:
    struct Job {
        Fn fn;
        void* arg;
    };
    void loop();

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Job> jobs_;  // guarded by mutex_
    bool stop_ = false;     // guarded by mutex_
    std::uint32_t size_;
    std::vector<std::thread> threads_;  // guarded by mutex_; empty until the first post
};

}  // namespace buntime::worker
