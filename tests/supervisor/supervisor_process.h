// SPDX-License-Identifier: MIT
// Test helper: runs the real `buntime` binary on a free port with a given environment and
// talks to it over HTTP (cpp-httplib) or raw sockets.
#pragma once

#include <httplib.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ports.h"
#include "sanitize.h"
#include "temp_dir.h"

namespace buntime::test {

inline void writeFile(const std::filesystem::path& p, const std::string& text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

class SupervisorProcess {
public:
    // `listen_fd`: a listening socket handed over as systemd does (fd 3, LISTEN_PID, LISTEN_FDS).
    SupervisorProcess(std::map<std::string, std::string> env, std::string log_path = {}, int listen_fd = -1,
                      std::uint16_t listen_port = 0)
        : port_(listen_fd >= 0 ? listen_port : freePort()), log_path_(std::move(log_path)) {
        if (listen_fd < 0) env["PORT"] = std::to_string(port_);
        if (!env.count("RUNTIME_BIND")) env["RUNTIME_BIND"] = "127.0.0.1";
        addSanitizeEnv(env);
        if (log_path_.empty())
            log_path_ = "/tmp/buntime-test-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + ".log";
        std::vector<std::string> envs;
        for (char** e = environ; *e; ++e) {
            std::string s(*e);
            auto key = s.substr(0, s.find('='));
            if (!env.count(key) && key.rfind("RUNTIME_", 0) != 0) envs.push_back(s);
        }
        for (auto& [k, v] : env) envs.push_back(k + "=" + v);
        pid_ = ::fork();
        if (pid_ == 0) {
            int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 2);
            ::dup2(fd, 1);
            if (listen_fd >= 0) {
                if (listen_fd != 3) ::dup2(listen_fd, 3);
                ::fcntl(3, F_SETFD, 0);  // inherited across exec
                envs.push_back("LISTEN_PID=" + std::to_string(::getpid()));
                envs.push_back("LISTEN_FDS=1");
            }
            std::vector<char*> envp;
            for (auto& s : envs) envp.push_back(s.data());
            envp.push_back(nullptr);
            std::string bin = BUNTIME_BINARY;
            char* argv[] = {bin.data(), nullptr};
            ::execve(bin.c_str(), argv, envp.data());
            ::_exit(127);
        }
    }
    ~SupervisorProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    std::uint16_t port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::string& logPath() const { return log_path_; }
    std::string log() const { return readFile(log_path_); }

    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port_);
        c.set_connection_timeout(5);
        c.set_read_timeout(30);
        return c;
    }

    // Waits until /_/api/health/live answers; false if the process died or time ran out.
    bool waitReady(std::chrono::milliseconds limit = std::chrono::seconds(15)) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                exited_status_ = status;
                pid_ = -1;
                return false;
            }
            auto c = client();
            c.set_connection_timeout(0, 200000);
            if (auto r = c.Get("/_/api/health/live"); r && r->status == 200) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    // Sends a signal and waits for exit; returns the wait status or nullopt on timeout.
    std::optional<int> signalAndWait(int sig, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
        if (pid_ <= 0) return exited_status_;
        ::kill(pid_, sig);
        return waitExit(limit);
    }
    std::optional<int> waitExit(std::chrono::milliseconds limit) {
        if (pid_ <= 0) return exited_status_;
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                exited_status_ = status;
                return status;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return std::nullopt;
    }

private:
    std::uint16_t port_;
    std::string log_path_;
    pid_t pid_ = -1;
    std::optional<int> exited_status_;
};

// The environment most supervisor tests start from: these apps, no access log, info logs.
inline std::map<std::string, std::string> baseEnv(const std::filesystem::path& apps) {
    return {{"RUNTIME_WORKER_DIRS", apps.string()}, {"RUNTIME_ACCESS_LOG", "off"}, {"RUNTIME_LOG_LEVEL", "info"}};
}

// An app directory: `so` copied in as app.so, `manifest` written as manifest.yaml.
inline void installApp(const std::filesystem::path& dir, const std::filesystem::path& so, const std::string& manifest) {
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(so, dir / "app.so", std::filesystem::copy_options::overwrite_existing);
    writeFile(dir / "manifest.yaml", manifest);
}

// A TCP connection to `port` on loopback whose reads give up after `receive_timeout`;
// -1 when it cannot connect.
inline int connectLoopback(std::uint16_t port, std::chrono::milliseconds receive_timeout) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tv{static_cast<time_t>(receive_timeout.count() / 1000),
               static_cast<suseconds_t>((receive_timeout.count() % 1000) * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

// Sends raw bytes on a new TCP connection and returns everything read until the server
// closes (or the timeout passes).
inline std::string rawExchange(std::uint16_t port, const std::string& bytes,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const int fd = connectLoopback(port, timeout);
    if (fd < 0) return {};
    std::size_t off = 0;
    while (off < bytes.size()) {
        auto n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
    }
    std::string out;
    char buf[65536];
    for (;;) {
        auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

inline int statusOf(const std::string& raw) {
    if (raw.size() < 12 || raw.rfind("HTTP/1.", 0) != 0) return 0;
    return std::atoi(raw.c_str() + 9);
}

}  // namespace buntime::test
