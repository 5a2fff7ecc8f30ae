// SPDX-License-Identifier: MIT
// ExitWatcher: pidfd readability through Asio's reactor, then a non-blocking reap on the loop.
#include "buntime/proc/exit_watcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <cerrno>

#include "buntime/base/error.h"
#include "buntime/base/unique_fd.h"

namespace buntime::proc {

struct ExitWatcher::State {
    explicit State(boost::asio::io_context& io) : io(io), descriptor(io) {}
    boost::asio::io_context& io;
    boost::asio::posix::stream_descriptor descriptor;  // owns the dup of the pidfd
    Process* process = nullptr;
    Callback on_exit;
    bool done = false;  // callback ran or cancelled
};

namespace {

void finish(const std::shared_ptr<ExitWatcher::State>& state, ExitStatus status) {
    state->done = true;
    boost::system::error_code ignored;
    state->descriptor.close(ignored);
    auto cb = std::move(state->on_exit);
    state->on_exit = nullptr;
    if (cb) cb(status);
}

void arm(std::shared_ptr<ExitWatcher::State> state) {
    auto* raw = state.get();
    raw->descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                               [state = std::move(state)](const boost::system::error_code& ec) {
                                   if (state->done) return;
                                   if (ec == boost::asio::error::operation_aborted) return;
                                   auto status = state->process->tryReap();
                                   if (status) {
                                       finish(state, *status);
                                   } else if (ec) {
                                       // The reactor failed on this fd: nothing can be waited for.
                                       finish(state, ExitStatus{});
                                   } else {
                                       arm(state);  // spurious wakeup: the child still runs
                                   }
                               });
}

}  // namespace

Expected<ExitWatcher, SysError> ExitWatcher::watch(boost::asio::io_context& io, Process& process, Callback onExit) {
    auto state = std::make_shared<State>(io);
    state->process = &process;
    state->on_exit = std::move(onExit);
    if (process.status()) {
        boost::asio::post(io, [state] {
            if (!state->done) finish(state, *state->process->status());
        });
        return ExitWatcher(std::move(state));
    }
    if (!process.valid()) return SysError{EBADF, "watch: no process"};
    base::UniqueFd fd(::fcntl(process.pidfd(), F_DUPFD_CLOEXEC, 0));
    if (!fd) return base::sysError("watch: dup pidfd");
    boost::system::error_code ec;
    state->descriptor.assign(fd.get(), ec);
    if (ec) return SysError{ec.value(), "watch: register pidfd: " + ec.message()};
    static_cast<void>(fd.release());  // the stream_descriptor owns it now
    arm(state);
    return ExitWatcher(std::move(state));
}

ExitWatcher& ExitWatcher::operator=(ExitWatcher&& other) noexcept {
    if (this != &other) {
        cancel();
        state_ = std::move(other.state_);
    }
    return *this;
}

ExitWatcher::~ExitWatcher() { cancel(); }

void ExitWatcher::cancel() noexcept {
    if (!state_ || state_->done) return;
    state_->done = true;
    state_->on_exit = nullptr;
    boost::system::error_code ignored;
    state_->descriptor.close(ignored);  // aborts the pending async_wait
}

bool ExitWatcher::active() const noexcept { return state_ && !state_->done; }

}  // namespace buntime::proc
