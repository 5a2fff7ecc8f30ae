// SPDX-License-Identifier: MIT
// The handler thread pool.
#include "buntime/worker/thread_pool.h"

namespace buntime::worker {

ThreadPool::ThreadPool(std::uint32_t threads) : size_(threads == 0 ? 1 : threads) {}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
}

void ThreadPool::post(Fn fn, void* arg) {
    {
        std::lock_guard lock(mutex_);
        if (threads_.empty()) {
            threads_.reserve(size_);
            for (std::uint32_t i = 0; i < size_; ++i) threads_.emplace_back([this] { loop(); });
        }
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
