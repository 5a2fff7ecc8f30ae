// SPDX-License-Identifier: MIT
// Test-side supervisor stand-in: creates a channel, spawns a real buntime-worker with the
// fds inherited, and speaks proto/ (requests out, replies reassembled by
// proto::MessageAssembler in).
//
// Thread-safety: send*/cancel/idle/terminate and wait* may be called from any thread; a
// reader thread owns the inbound ring.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "buntime/base/unique_fd.h"
#include "buntime/proto/messages.h"
#include "buntime/proto/stream.h"
#include "buntime/shm/channel.h"
#include "temp_dir.h"

namespace buntime::test {

using namespace std::chrono_literals;

struct Reply {
    bool done = false;
    bool error = false;  // Kind::Error
    std::string reason;  // Kind::Error head
    proto::ResponseHead head;
    std::string body;
    std::size_t frames = 0;  // of the response message
    std::optional<std::string> header(std::string_view name) const;
};

struct Startup {
    bool ready = false;  // Kind::Ready (else InitFailed or nothing)
    proto::ReadyInfo info;
    std::string reason;  // InitFailed head
};

struct WorkerOptions {
    std::string app_dir;
    std::string name = "fixture";
    std::string version = "1.0.0";
    std::vector<std::string> args;                         // extra argv
    std::vector<std::pair<std::string, std::string>> env;  // extra env
    std::size_t ring_bytes = 256 * 1024;
    // Set: starts the worker instead of fork+exec (e.g. asks a template to fork one) and
    // returns its pid, a child of this process; the channel's fds are given.
    std::function<pid_t(const shm::ChannelFds&)> start;
};

class WorkerClient {
public:
    explicit WorkerClient(WorkerOptions options);
    ~WorkerClient();
    WorkerClient(const WorkerClient&) = delete;
    WorkerClient& operator=(const WorkerClient&) = delete;

    pid_t pid() const { return pid_; }
    shm::Channel& channel() { return channel_; }

    // Ready or InitFailed (waits up to `timeout`).
    Startup startup(std::chrono::milliseconds timeout = 10s);

    std::uint64_t send(std::string method, std::string path, std::string body = {},
                       std::vector<proto::Header> headers = {}, std::string query = {});
    Reply wait(std::uint64_t id, std::chrono::milliseconds timeout = 30s);
    // Whether any frame of a reply to `id` arrived (and was not taken by wait()).
    bool hasReply(std::uint64_t id);
    Reply request(std::string method, std::string path, std::string body = {}, std::vector<proto::Header> headers = {},
                  std::string query = {}) {
        return wait(send(std::move(method), std::move(path), std::move(body), std::move(headers), std::move(query)));
    }
    Reply get(std::string path, std::string query = {}) {
        return request("GET", std::move(path), {}, {}, std::move(query));
    }

    void cancel(std::uint64_t id);
    void idle();
    void terminate(std::uint64_t grace_ms);
    // Sends Ping with `token` (or a raw head of any length); waitPong: whether a Pong
    // echoing `token` arrives within `timeout`.
    void ping(std::uint64_t token);
    void pingRaw(std::span<const std::byte> head);
    bool waitPong(std::uint64_t token, std::chrono::milliseconds timeout);
    std::size_t pongCount();
    // Sends one raw frame (tests of framing).
    void sendFrame(const shm::Outgoing& frame);
    std::uint64_t nextId() { return next_id_++; }
    static std::vector<std::byte> requestHead(const std::string& method, const std::string& path, std::int64_t length,
                                              const std::string& query = {});

    // Exit status: the code if it exited, 128+signal if killed; nullopt on timeout.
    std::optional<int> waitExit(std::chrono::milliseconds timeout = 10s);

private:
    void readLoop();
    void control(proto::Kind kind, std::string_view head);

    shm::Channel channel_;
    pid_t pid_ = -1;
    base::UniqueFd pidfd_;
    bool reaped_ = false;
    int exit_status_ = 0;
    std::uint64_t next_id_ = 1;

    std::mutex send_mutex_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::map<std::uint64_t, Reply> replies_;            // guarded by mutex_; whole replies
    std::map<std::uint64_t, std::size_t> open_frames_;  // guarded by mutex_; frames of replies still arriving
    std::optional<Startup> startup_;                    // guarded by mutex_
    std::vector<std::uint64_t> pongs_;                  // guarded by mutex_; tokens of Pongs received
    bool reader_done_ = false;                          // guarded by mutex_
    bool stop_ = false;
    std::thread reader_;
};

}  // namespace buntime::test
