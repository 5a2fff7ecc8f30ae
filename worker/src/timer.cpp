// SPDX-License-Identifier: MIT
// The timer thread.
#include "buntime/worker/timer.h"

#include <sys/prctl.h>

namespace buntime::worker {

TimerService& TimerService::instance() {
    static auto* service = new TimerService();  // leaked on purpose: no destructor at exit
    return *service;
}

void TimerService::after(std::chrono::milliseconds delay, Callback fn, void* ctx) {
    bool notify = false;
    {
        std::lock_guard lock(mutex_);
        if (!started_) {
            started_ = true;
            std::thread([this] { loop(); }).detach();
        }
        Entry e{base::Clock::now() + delay, seq_++, fn, ctx};
        notify = queue_.empty() || e.deadline < queue_.top().deadline;
        queue_.push(e);
    }
    if (notify) cv_.notify_one();
}

void TimerService::loop() {
    // Sleeps of this thread end when asked: without this the kernel may add its default
    // 50 us of slack to every deadline (an `after(50ms)` answers late by up to that).
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    std::unique_lock lock(mutex_);
    for (;;) {
        if (queue_.empty()) {
            cv_.wait(lock);
            continue;
        }
        auto deadline = queue_.top().deadline;
        if (base::Clock::now() < deadline) {
            cv_.wait_until(lock, deadline);
            continue;
        }
        Entry e = queue_.top();
        queue_.pop();
        lock.unlock();
        e.fn(e.ctx);
        lock.lock();
    }
}

}  // namespace buntime::worker
