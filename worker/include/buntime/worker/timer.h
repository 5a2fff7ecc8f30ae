// SPDX-License-Identifier: MIT
// The process-wide timer thread behind buntime_host_v1::after().
//
// Thread-safety: after() may be called from any thread, including from a callback.
// Callbacks run one at a time on the timer thread, in deadline order; they must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "buntime/base/clock.h"

namespace buntime::worker {

class TimerService {
public:
    using Callback = void (*)(void* ctx);

    // The process-wide instance; its thread starts on first use and is never joined
    // (the worker leaves with _exit).
    static TimerService& instance();

    void after(std::chrono::milliseconds delay, Callback fn, void* ctx);

private:
    TimerService() = default;
    struct Entry {
        base::TimePoint deadline;
        std::uint64_t seq;
        Callback fn;
        void* ctx;
        bool operator>(const Entry& o) const { return deadline != o.deadline ? deadline > o.deadline : seq > o.seq; }
    };
    void loop();

    std::mutex mutex_;
    std::condition_variable cv_;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;  // guarded by mutex_
    std::uint64_t seq_ = 0;                                                      // guarded by mutex_
    bool started_ = false;                                                       // guarded by mutex_
};

}  // namespace buntime::worker
