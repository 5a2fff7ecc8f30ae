// SPDX-License-Identifier: MIT
// A command app's program: started under a keeper process, its output logged, stopped as a group.
//
// Process tree: buntime-worker ─ keeper ─ app (own process group) ─ whatever the app forks.
// The keeper is a fork of the worker that never execs: it dies with the worker
// (PR_SET_PDEATHSIG → SIGHUP), is the subreaper of the app's descendants, and kills the
// app's whole process group when the app exits, when the worker asks (SIGTERM: forward
// SIGTERM, SIGUSR2: SIGKILL) and when the worker dies, even by SIGKILL. It then removes the
// private socket directory and exits with the app's status (128+signal when killed).
//
// Thread-safety: start() on the main thread (the keeper's death signal is tied to the
// thread that forks it); the other members from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "buntime/base/expected.h"
#include "buntime/base/printable.h"
#include "buntime/base/unique_fd.h"

namespace buntime::worker {

struct CommandSpec {
    std::vector<std::string> argv;  // program and arguments (the manifest's `command`)
    std::string app_dir;            // working directory
    std::string listen = "unix";    // "unix": BUNTIME_SOCKET; "tcp": PORT
    std::string app_key;            // log category of the app's output: "name@version"
    std::vector<std::string> env;   // the environment to give (BUNTIME_CHANNEL is removed)
};

// Where the app listens: a unix socket path, or a loopback TCP port.
struct CommandEndpoint {
    std::string socket_path;  // unix
    int port = 0;             // tcp
    std::string describe() const;
};

class CommandProcess {
public:
    ~CommandProcess();
    CommandProcess(const CommandProcess&) = delete;
    CommandProcess& operator=(const CommandProcess&) = delete;

    // Starts the program. Call it on the main thread (see above) and before the process title
    // changes (the keeper keeps the worker's argv). The error says why it could not start.
    static base::Expected<std::unique_ptr<CommandProcess>, std::string> spawn(const CommandSpec& spec);
    // Waits until the endpoint accepts a connection, at most `timeout`; else stops the
    // program and returns why: it exited (status, last stderr lines) or never listened.
    std::string waitListening(std::chrono::milliseconds timeout);

    const CommandEndpoint& endpoint() const noexcept { return endpoint_; }
    // A new connected, blocking socket to the app (invalid on failure; errno is set).
    base::UniqueFd connect() const;

    // Called once (on the watcher thread) when the app exits by itself, not through stop().
    void onUnexpectedExit(std::function<void(const std::string& how)> fn);
    // SIGTERM to the group, `grace`, then SIGKILL; waits for the keeper. Idempotent.
    void stop(std::chrono::milliseconds grace);
    pid_t keeperPid() const noexcept { return keeper_; }

private:
    CommandProcess() = default;
    void watch();
    void drain(int out_fd, int err_fd);
    std::string stderrTail();
    bool waitExit(std::chrono::milliseconds timeout);
    void removeEndpoint() noexcept;

    CommandEndpoint endpoint_;
    std::string socket_dir_;
    std::string app_key_;
    std::string program_;
    std::string listen_;
    pid_t keeper_ = -1;

    std::mutex mutex_;
    std::condition_variable changed_;
    bool exited_ = false;                              // guarded by mutex_
    bool drained_ = false;                             // guarded by mutex_: both pipes reached EOF
    bool stopping_ = false;                            // guarded by mutex_
    std::string exit_how_;                             // guarded by mutex_
    std::deque<std::string> tail_;                     // guarded by mutex_: the last stderr lines
    std::function<void(const std::string&)> on_exit_;  // guarded by mutex_
    std::thread watcher_;
    std::thread drainer_;
};

using base::printableLine;  // the app's lines and reasons, safe for a log line

}  // namespace buntime::worker
