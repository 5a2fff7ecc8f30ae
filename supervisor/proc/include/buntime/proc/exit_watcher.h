// SPDX-License-Identifier: MIT
// Asio exit notification for a Process: waits for its pidfd to become readable, reaps, calls back.
#pragma once

#include <functional>
#include <memory>

#include "buntime/proc/process.h"

namespace boost::asio {
class io_context;
}

namespace buntime::proc {

// Watches one Process on an io_context. The wait is an async_wait(wait_read) on a dup of
// the pidfd; the reap is waitid(WNOHANG) on the loop, never a blocking wait.
//
// Lifetime: the Process must stay at the same address and outlive the watcher (or the
// watcher must be cancelled first). Destroying the watcher cancels it.
// Thread-safety: create, cancel and destroy on the io_context's thread; the callback runs
// there too, at most once, never after cancel() returned.
class ExitWatcher {
public:
    using Callback = std::function<void(ExitStatus)>;

    // Starts watching. If the process was already reaped, the callback is posted.
    static Expected<ExitWatcher, SysError> watch(boost::asio::io_context& io, Process& process, Callback onExit);

    ExitWatcher() noexcept = default;
    ExitWatcher(ExitWatcher&&) noexcept = default;
    ExitWatcher& operator=(ExitWatcher&& other) noexcept;
    ExitWatcher(const ExitWatcher&) = delete;
    ExitWatcher& operator=(const ExitWatcher&) = delete;
    ~ExitWatcher();

    // Stops watching; the callback will not be called. Idempotent.
    void cancel() noexcept;
    // True until the callback ran or cancel() was called.
    bool active() const noexcept;

    struct State;  // shared with the pending handler

private:
    explicit ExitWatcher(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
};

}  // namespace buntime::proc
