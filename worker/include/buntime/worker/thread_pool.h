// SPDX-License-Identifier: MIT
// A fixed-size pool of handler threads fed by one FIFO queue.
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
    std::vector<std::thread> threads_;
};

}  // namespace buntime::worker
