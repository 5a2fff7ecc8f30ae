// SPDX-License-Identifier: MIT
// ExitWatcher: pidfd readability through Asio's reactor, then a non-blocking reap on the loop.
#include "buntime/proc/exit_watcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <cerrno>
#include <cstring>

namespace buntime::proc {

struct ExitWatcher::State {
    explicit State(boost::asio::io_context& io) : io(io), descriptor(io) {}
    boost::asio::io_context& io;
    boost::asio::posix::stream_descriptor descriptor;  // owns the dup of the pidfd
    Process* process = nullptr;
    Callback onExit;
    bool done = false;  // callback ran or cancelled
};

namespace {

void finish(const std::shared_ptr<ExitWatcher::State>& state, ExitStatus status) {
    state->done = true;
    boost::system::error_code ignored;
    state->descriptor.close(ignored);
    auto cb = std::move(state->onExit);
    state->onExit = nullptr;
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
    state->onExit = std::move(onExit);
    if (process.status()) {
        boost::asio::post(io, [state] {
            if (!state->done) finish(state, *state->process->status());
        });
        return ExitWatcher(std::move(state));
    }
    if (!process.valid()) return SysError{EBADF, "watch: no process"};
    int fd = ::fcntl(process.pidfd(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return SysError{errno, std::string("watch: dup pidfd: ") + std::strerror(errno)};
    boost::system::error_code ec;
    state->descriptor.assign(fd, ec);
    if (ec) {
        ::close(fd);
        return SysError{ec.value(), "watch: register pidfd: " + ec.message()};
    }
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
    state_->onExit = nullptr;
    boost::system::error_code ignored;
    state_->descriptor.close(ignored);  // aborts the pending async_wait
}

bool ExitWatcher::active() const noexcept { return state_ && !state_->done; }

}  // namespace buntime::proc
