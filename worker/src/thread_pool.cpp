// SPDX-License-Identifier: MIT
// The handler thread pool.
#include "buntime/worker/thread_pool.h"

namespace buntime::worker {

ThreadPool::ThreadPool(std::uint32_t threads) {
    if (threads == 0) threads = 1;
    threads_.reserve(threads);
    for (std::uint32_t i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void ThreadPool::post(Fn fn, void* arg) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(Job{fn, arg});
    }
    cv_.notify_one();
}

void ThreadPool::loop() {
    for (;;) {
        Job job{};
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
            if (jobs_.empty()) return;
            job = jobs_.front();
            jobs_.pop_front();
        }
        job.fn(job.arg);
    }
}

}  // namespace buntime::worker
