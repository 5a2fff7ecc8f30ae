// SPDX-License-Identifier: MIT
// The worker's serving loop: reads frames from the channel, assembles request bodies
// (proto::Reassembler), dispatches to the app (inline for async apps, on the pool for
// blocking ones), writes response frames (proto::FrameSplitter), and runs the
// Cancel/Idle/Terminate lifecycle (proto/messages.h, proto/control.h).
//
// Threads: run() is the I/O (reader) thread and the only consumer of the inbound ring.
// Responses are written from any thread; frames are serialized by send_mutex_ (the ring
// is single-producer). Frames of different responses may interleave; each carries its
// request id.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "buntime/app/app.h"
#include "buntime/proto/launch.h"
#include "buntime/proto/messages.h"
#include "buntime/proto/stream.h"
#include "buntime/shm/channel.h"
#include "buntime/worker/thread_pool.h"

namespace buntime::worker {

// The server's section of the launch (proto::WorkerLaunch).
struct ServerOptions {
    std::uint32_t threads = proto::kDefaultThreads;
    std::uint32_t concurrency = proto::kDefaultConcurrency;
    std::uint64_t max_body = proto::kDefaultMaxBody;
};

class Server;
struct Exchange;
using InFlightMap = std::unordered_map<std::uint64_t, Exchange*>;

// One request and its response. The host owns it; the app sees it as the opaque
// buntime_request / buntime_response. Recycled (kept for reuse, with its buffers' capacity)
// when both the handler call and the response are done (refs).
struct Exchange {
    void reset() noexcept;

    Server* server = nullptr;
    std::uint64_t id = 0;
    std::size_t head_bytes = 0;     // encoded request head size (pooling bound)
    std::uint64_t received_ns = 0;  // timing reported in the response head
    std::uint64_t handler_start_ns = 0;
    proto::RequestHead head;
    std::string body;

    std::atomic<int> refs{2};  // handler call + open response
    std::atomic<bool> cancelled{false};
    std::atomic<bool> slot_released{false};       // in_flight_ (the drain) counts it no more
    std::atomic<bool> admission_released{false};  // admitted_ counts it no more

    // Response state: touched by one thread at a time (the one holding the handle).
    std::uint16_t status = 200;
    proto::ResponseHeadBuilder response_head;  // headers so far, already encoded
    std::size_t header_bytes = 0;
    std::int64_t declared_length = -1;
    std::int64_t written = 0;
    std::string buffer;   // body bytes not yet sent
    std::string failure;  // non-empty: the request fails at end()
    bool head_sent = false;
    bool ended = false;

    InFlightMap::node_type node;  // reused map node; guarded by Server::map_mutex_
};

class Server {
public:
    // `channel` and `app` outlive the server. app_ctx is what app->init produced.
    Server(shm::Channel& channel, const ServerOptions& options, const buntime_app_v1* app, void* app_ctx);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Serves until the peer dies (returns 0), the channel breaks (returns 3), or a
    // Terminate completes (the process exits 0 from the terminator thread).
    int run();

    // The host function table handed to apps (process-wide, immutable).
    static const buntime_host_v1* hostTable() noexcept;

    // --- response operations behind the host table (thread of the handle holder) ---
    int setStatus(Exchange* ex, int status) noexcept;
    int addHeader(Exchange* ex, std::string_view name, std::string_view value) noexcept;
    int setLength(Exchange* ex, std::int64_t length) noexcept;
    int write(Exchange* ex, const void* data, std::size_t len) noexcept;
    int end(Exchange* ex) noexcept;
    int fail(Exchange* ex, std::string_view reason) noexcept;
    // Sends the body bytes write() has gathered so far (a proxy with nothing more to read yet).
    int flush(Exchange* ex) noexcept;

    std::uint32_t inFlight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }

private:
    void handleFrame(const shm::FrameView& frame);
    void onRequest(const shm::FrameView& frame);
    void onContinuation(const shm::FrameView& frame);
    void onCancel(std::uint64_t id);
    // Disposes of an exchange assembling_ replaced (a duplicate id).
    void dispose(std::optional<Exchange*> older) noexcept;
    void onTerminate(std::chrono::milliseconds grace);
    void dispatch(Exchange* ex);
    void callHandler(Exchange* ex) noexcept;
    static void runJob(void* arg) noexcept;
    static void runIdleHook(void* arg) noexcept;

    int sendBody(Exchange* ex, std::span<const std::byte> data, bool last) noexcept;
    // One frame; `ex` (may be null) stops the wait on a full ring when it is cancelled.
    int sendFrame(const shm::Outgoing& frame, const Exchange* ex) noexcept;
    void sendSimple(std::uint64_t id, std::uint16_t status, std::string_view text) noexcept;
    void sendError(std::uint64_t id, std::string_view reason) noexcept;
    void answerPing(std::uint64_t token) noexcept;
    void complete(Exchange* ex) noexcept;
    void releaseSlot(Exchange* ex) noexcept;       // both counts
    void releaseAdmission(Exchange* ex) noexcept;  // before the final frame goes out
    Exchange* acquire();                           // reader thread
    void unref(Exchange* ex) noexcept;             // any thread; recycles at zero
    void recycle(Exchange* ex) noexcept;           // any thread; `ex` is no longer referenced

    shm::Channel& channel_;
    const ServerOptions options_;
    const buntime_app_v1* app_;
    void* app_ctx_;
    const bool async_;
    std::size_t max_payload_;

    std::mutex send_mutex_;  // serializes outbound frames
    // Requests whose body is still arriving; reader thread only. A null state is a refused
    // request whose remaining frames are dropped.
    proto::Reassembler<Exchange*> assembling_;

    std::mutex map_mutex_;
    InFlightMap in_flight_map_;  // guarded by map_mutex_
    std::mutex free_mutex_;
    std::vector<Exchange*> free_;  // recycled exchanges; guarded by free_mutex_
    // admitted_ bounds admission (--concurrency); it drops before a response's final frame
    // is sent, so the supervisor's next request never finds the slot still taken.
    // in_flight_ drops after it, so the drain at terminate waits for the frame.
    std::atomic<std::uint32_t> admitted_{0};
    std::atomic<std::uint32_t> in_flight_{0};
    std::atomic<bool> terminating_{false};
    std::atomic<bool> closed_{false};  // the channel reported PeerDead
    std::mutex drain_mutex_;
    std::condition_variable drained_;  // in_flight_ reached 0 while terminating

    ThreadPool pool_;  // last: its threads use the members above
};

}  // namespace buntime::worker
