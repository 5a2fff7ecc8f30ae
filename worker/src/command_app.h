// SPDX-License-Identifier: MIT
// The command kind's app: proxies each request to the app's own HTTP server over HTTP/1.1
// keep-alive connections (a pool of at most `concurrency`), streaming the response body
// into the ring (a full ring stops reading from the app's socket).
//
// Errors: no response, a connection closed mid-response or malformed HTTP → 502 for that
// request (an error frame once the response head has left); the program's exit ends the
// worker (exit status 4), so the supervisor fails what is in flight and replaces it.
//
// Thread-safety: handle() runs on the server's handler threads (blocking style), any number
// at once; the connection pool is guarded by a mutex.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "buntime/app/app.h"
#include "buntime/base/unique_fd.h"
#include "command_process.h"

namespace buntime::worker {

class CommandApp {
public:
    explicit CommandApp(std::unique_ptr<CommandProcess> process, std::size_t max_idle);

    // A blocking-style table whose ctx is a CommandApp.
    static const buntime_app_v1* appTable() noexcept;
    CommandProcess& process() noexcept { return *process_; }

private:
    static int handle(void* ctx, buntime_request* req, buntime_response* res);
    static void onTerminate(void* ctx);
    base::UniqueFd take(bool& reused);
    void give(base::UniqueFd fd);

    std::unique_ptr<CommandProcess> process_;
    const std::size_t max_idle_;
    std::mutex mutex_;
    std::vector<base::UniqueFd> idle_;  // guarded by mutex_
    std::size_t active_ = 0;            // guarded by mutex_: handler calls in progress
    std::condition_variable drained_;   // active_ reached 0
};

}  // namespace buntime::worker
