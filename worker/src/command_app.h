// SPDX-License-Identifier: MIT
// The command kind's app: an event-driven relay from the ring to the app's own HTTP server
// over HTTP/1.1 keep-alive connections (at most `max_connections`), with no thread per
// request.
//
// Threads: handle() runs on the server's reading (ring) thread (the async style): it takes a
// connection, writes the request without blocking and hands the connection to the relay
// thread by arming it in the relay's epoll (EPOLLONESHOT: one owner at a time). The relay
// thread reads the responses (ResponseParser) and streams them into the ring; a full ring
// blocks it, which stops reading from the app's sockets (backpressure), while the ring
// thread goes on answering Ping. A request whose socket is not writable waits on EPOLLOUT.
//
// Errors: connection refused, no response, a connection closed mid-response or malformed
// HTTP → 502 with the reason for that request only (an error frame once the response head has
// left); a kept-alive connection the app closed meanwhile is retried on a new one. The
// program's exit ends the worker (host.cpp), so the supervisor fails what is in flight and
// replaces it. A cancelled request's connection is closed within kSweep.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "buntime/app/app.h"
#include "buntime/base/unique_fd.h"
#include "command_process.h"

namespace buntime::worker {

struct Exchange;

class CommandApp {
public:
    CommandApp(std::unique_ptr<CommandProcess> process, std::size_t max_connections);
    ~CommandApp();
    CommandApp(const CommandApp&) = delete;
    CommandApp& operator=(const CommandApp&) = delete;

    // An async-style table whose ctx is a CommandApp.
    static const buntime_app_v1* appTable() noexcept;
    CommandProcess& process() noexcept { return *process_; }

    struct Conn;  // one connection to the app (command_app.cpp)

private:
    enum class Sent { Done, Blocked, Failed };

    static int handle(void* ctx, buntime_request* req, buntime_response* res);
    static void onTerminate(void* ctx);

    // Starts (or restarts, attempt > 0) a request on an idle, new or (when at the limit) the
    // next freed connection. Any thread that owns `ex`.
    void begin(Exchange* ex, int attempt);
    // Writes what is left of the request; the caller owns `c`.
    Sent sendRequest(Conn* c);
    // Hands `c` to the relay thread, waiting for `events`.
    void arm(Conn* c, unsigned events);
    // The relay thread's side.
    void relayLoop();
    void onEvent(Conn* c, unsigned events);
    void onReadable(Conn* c);
    // Feeds bytes to the parser; false when `c` is finished (returned or closed).
    bool consume(Conn* c, std::string_view bytes);
    bool deliverHead(Conn* c);
    void sweepCancelled();
    void startPending();
    // Ends `c`'s request with a 502, or retries it when the app closed a kept-alive connection
    // before answering; closes `c`.
    void failConn(Conn* c, std::string reason, bool retryable);  // by value: it may be c's
    // The request on `c` is over: back to the idle pool (reusable) or closed.
    void finish(Conn* c, bool reusable);
    void closeConn(Conn* c);  // `c` is freed
    void requestDone();       // one fewer request in flight
    void wake();

    std::unique_ptr<CommandProcess> process_;
    const std::size_t max_connections_;
    base::UniqueFd epoll_;
    base::UniqueFd wake_fd_;  // an eventfd in epoll_: pending work or stop
    std::thread relay_;       // started by the first request
    bool stop_ = false;       // guarded by mutex_

    std::mutex mutex_;
    std::vector<Conn*> idle_;  // guarded by mutex_
    struct BusyList {          // intrusive: no allocation per request
        Conn* head = nullptr;
        void add(Conn* c);
        void remove(Conn* c);
    };
    BusyList busy_;                                  // guarded by mutex_: connections with a request
    std::deque<std::pair<Exchange*, int>> pending_;  // guarded by mutex_: waiting for a connection
    std::size_t open_ = 0;                           // guarded by mutex_: connections that exist
    std::uint64_t backoff_until_ = 0;                // guarded by mutex_: the app's backlog was full
    std::size_t active_ = 0;                         // guarded by mutex_: requests not finished
    std::condition_variable drained_;                // active_ reached 0
    std::vector<char> read_buf_;                     // relay thread only
};

}  // namespace buntime::worker
