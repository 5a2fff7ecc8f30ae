// SPDX-License-Identifier: MIT
// Test-side supervisor stand-in (see worker_client.h).
#include "worker_client.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "buntime/base/ascii.h"
#include "buntime/base/clock.h"
#include "buntime/proto/control.h"
#include "buntime/proto/launch.h"

extern char** environ;

namespace buntime::test {
namespace {

shm::Channel makeChannel(std::size_t ring_bytes) {
    shm::ChannelConfig config;
    config.ring_bytes = ring_bytes;
    auto ch = shm::Channel::create(config);
    if (!ch) throw std::runtime_error("Channel::create failed: " + std::string(shm::toString(ch.error())));
    return std::move(ch).value();
}

using proto::bytesOf;

}  // namespace

std::optional<std::string> Reply::header(std::string_view name) const {
    for (const auto& [k, v] : head.headers) {
        if (base::iequals(k, name)) return v;
    }
    return std::nullopt;
}

WorkerClient::WorkerClient(WorkerOptions options) : channel_(makeChannel(options.ring_bytes)) {
    const shm::ChannelFds fds = channel_.fds();
    if (options.start) {
        pid_ = options.start(fds);
        if (pid_ <= 0) throw std::runtime_error("the worker did not start");
        pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
        if (pidfd_) channel_.setPeerPidfd(pidfd_.get());
        reader_ = std::thread([this] { readLoop(); });
        return;
    }
    std::vector<std::string> args{BUNTIME_WORKER_PATH, "--app-dir", options.app_dir, "--name",
                                  options.name,        "--version", options.version};
    args.insert(args.end(), options.args.begin(), options.args.end());
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        if (!proto::isSupervisorOnly(*e)) env.emplace_back(*e);
    }
    env.push_back(proto::channelEnvEntry(fds));
    for (const auto& [k, v] : options.env) env.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int keep[] = {fds.segment, fds.to_worker_data, fds.to_worker_space, fds.to_supervisor_data,
                        fds.to_supervisor_space};

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        // Same fd numbers, without CLOEXEC, so the worker inherits them.
        for (int fd : keep) ::fcntl(fd, F_SETFD, 0);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
    if (pidfd_) channel_.setPeerPidfd(pidfd_.get());
    reader_ = std::thread([this] { readLoop(); });
}

WorkerClient::~WorkerClient() {
    if (!reaped_) {
        ::kill(pid_, SIGKILL);
        waitExit(5s);
    }
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    reader_.join();
}

void WorkerClient::readLoop() {
    proto::MessageAssembler assembler;
    proto::Message m;
    shm::FrameView frame;
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (stop_) break;
        }
        shm::Error e = channel_.receive(frame, 50ms);
        if (e == shm::Error::Timeout) continue;
        if (e != shm::Error::Ok) break;
        const std::uint64_t id = frame.header.request_id;
        const bool response_frame =
            frame.header.kind == proto::toWire(proto::Kind::Response) || proto::isContinuation(frame.header);
        const auto status = assembler.add(frame, m);
        channel_.release();
        std::lock_guard lock(mutex_);
        if (response_frame && status != proto::MessageAssembler::Status::Dropped) ++open_frames_[id];
        if (status != proto::MessageAssembler::Status::Complete) continue;
        switch (static_cast<proto::Kind>(m.kind)) {
        case proto::Kind::Ready: {
            Startup s;
            auto info = proto::decodeReadyInfo(m.head);
            s.ready = info.has_value();
            if (info)
                s.info = *info;
            else
                s.reason = "malformed ReadyInfo";
            startup_ = s;
            break;
        }
        case proto::Kind::InitFailed: {
            Startup s;
            s.reason = proto::decodeReason(m.head);
            startup_ = s;
            break;
        }
        case proto::Kind::Response: {
            Reply& r = replies_[id];
            r.done = true;
            r.frames = open_frames_[id];
            open_frames_.erase(id);
            auto head = proto::decodeResponseHead(m.head);
            if (!head) {
                r.error = true;
                r.reason = "malformed response head";
                break;
            }
            r.head = std::move(*head);
            r.body.assign(reinterpret_cast<const char*>(m.body.data()), m.body.size());
            break;
        }
        case proto::Kind::Pong: {
            auto token = proto::decodeToken(m.head);
            pongs_.push_back(token ? *token : 0);
            break;
        }
        case proto::Kind::Error: {
            assembler.cancel(id);  // a response cut short by the error
            open_frames_.erase(id);
            Reply& r = replies_[id];
            r.error = true;
            r.reason = proto::decodeReason(m.head);
            r.done = true;
            break;
        }
        default: break;
        }
        cv_.notify_all();
    }
    std::lock_guard lock(mutex_);
    reader_done_ = true;
    cv_.notify_all();
}

Startup WorkerClient::startup(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return startup_.has_value() || reader_done_; });
    if (startup_) return *startup_;
    Startup none;
    none.reason = "no Ready/InitFailed";
    return none;
}

std::vector<std::byte> WorkerClient::requestHead(const std::string& method, const std::string& path,
                                                 std::int64_t length, const std::string& query) {
    proto::RequestHead h;
    h.method = method;
    h.path = path;
    h.query = query;
    h.base = "/fixture";
    h.target = "/fixture" + path + (query.empty() ? "" : "?" + query);
    h.request_id = "req-test";
    h.content_length = length;
    return proto::encode(h);
}

std::uint64_t WorkerClient::send(std::string method, std::string path, std::string body,
                                 std::vector<proto::Header> headers, std::string query) {
    proto::RequestHead h;
    h.method = std::move(method);
    h.path = std::move(path);
    h.query = std::move(query);
    h.base = "/fixture";
    h.target = "/fixture" + h.path + (h.query.empty() ? "" : "?" + h.query);
    h.headers = std::move(headers);
    h.content_length = static_cast<std::int64_t>(body.size());
    std::lock_guard lock(send_mutex_);
    const std::uint64_t id = next_id_++;
    h.request_id = "req-" + std::to_string(id);
    auto head = proto::encode(h);
    shm::Error e = proto::sendMessage(channel_, proto::Kind::Request, id, head, bytesOf(body), 60s);
    if (e != shm::Error::Ok) throw std::runtime_error("send failed: " + std::string(shm::toString(e)));
    return id;
}

Reply WorkerClient::wait(std::uint64_t id, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] {
        auto it = replies_.find(id);
        return (it != replies_.end() && it->second.done) || reader_done_;
    });
    auto it = replies_.find(id);
    if (it == replies_.end() || !it->second.done) {
        Reply none;
        none.error = true;
        none.reason = "no reply";
        return none;
    }
    Reply r = std::move(it->second);
    replies_.erase(it);
    return r;
}

bool WorkerClient::hasReply(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    return replies_.count(id) != 0 || open_frames_.count(id) != 0;
}

void WorkerClient::control(proto::Kind kind, std::string_view head) { sendFrame(proto::frame(kind, 0, bytesOf(head))); }

void WorkerClient::sendFrame(const shm::Outgoing& frame) {
    std::lock_guard lock(send_mutex_);
    shm::Error e = channel_.send(frame, 10s);
    if (e != shm::Error::Ok) throw std::runtime_error("send failed: " + std::string(shm::toString(e)));
}

void WorkerClient::cancel(std::uint64_t id) { sendFrame(proto::frame(proto::Kind::Cancel, id)); }

void WorkerClient::idle() { control(proto::Kind::Idle, {}); }

void WorkerClient::ping(std::uint64_t token) {
    const auto head = proto::encodeToken(token);
    pingRaw(head);
}

void WorkerClient::pingRaw(std::span<const std::byte> head) { sendFrame(proto::frame(proto::Kind::Ping, 0, head)); }

bool WorkerClient::waitPong(std::uint64_t token, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] {
        for (auto t : pongs_)
            if (t == token) return true;
        return reader_done_;
    }) && std::find(pongs_.begin(), pongs_.end(), token) != pongs_.end();
}

std::size_t WorkerClient::pongCount() {
    std::lock_guard lock(mutex_);
    return pongs_.size();
}

void WorkerClient::terminate(std::uint64_t grace_ms) {
    control(proto::Kind::Terminate, proto::encodeTerminate(std::chrono::milliseconds(grace_ms)));
}

std::optional<int> WorkerClient::waitExit(std::chrono::milliseconds timeout) {
    if (reaped_) return exit_status_;
    const auto deadline = base::Clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return exit_status_;
        }
        if (base::Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(5ms);
    }
}

}  // namespace buntime::test
