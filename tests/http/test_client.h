// SPDX-License-Identifier: MIT
// Raw-socket HTTP/1.1 client and a threaded Server fixture for the http tests.
#pragma once

#include "buntime/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace buntime::http::test {

struct Response {
    int status = 0;
    std::string version;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// One client connection. Blocking with a receive timeout; owns the fd.
class Client {
public:
    static constexpr int kNoSetup = 0;
    explicit Client(std::uint16_t port, int rcvbuf = 0, int timeout_ms = 5000) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        setTimeout(timeout_ms);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    explicit Client(const std::string& unix_path, int timeout_ms = 5000) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        setTimeout(timeout_ms);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, unix_path.c_str(), sizeof a.sun_path - 1);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~Client() {
        if (fd_ >= 0) ::close(fd_);
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    bool connected() const { return connected_; }
    bool eof() const { return eof_; }
    int fd() const { return fd_; }
    void setTimeout(int ms) {
        timeval tv{ms / 1000, (ms % 1000) * 1000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    void close() {
        ::close(fd_);
        fd_ = -1;
    }
    bool send(const std::string& s) {
        std::size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return false;
            off += static_cast<std::size_t>(n);
        }
        return true;
    }
    // Reads more bytes into the buffer; false on EOF, error or timeout.
    bool fill() {
        char tmp[65536];
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) {
            eof_ = n == 0 || (n < 0 && errno == ECONNRESET);
            return false;
        }
        buf_.append(tmp, static_cast<std::size_t>(n));
        return true;
    }
    // True if the server closed the connection (EOF) within the receive timeout, with
    // no further bytes.
    bool closedByPeer() {
        if (!buf_.empty()) return false;
        char c;
        ssize_t n = ::recv(fd_, &c, 1, 0);
        if (n > 0) buf_.push_back(c);
        return n == 0 || (n < 0 && errno == ECONNRESET);
    }
    std::optional<std::string> readUntil(const std::string& marker) {
        for (;;) {
            auto p = buf_.find(marker);
            if (p != std::string::npos) {
                std::string out = buf_.substr(0, p + marker.size());
                buf_.erase(0, p + marker.size());
                return out;
            }
            if (!fill()) return std::nullopt;
        }
    }
    std::optional<std::string> readExact(std::size_t n) {
        while (buf_.size() < n)
            if (!fill()) return std::nullopt;
        std::string out = buf_.substr(0, n);
        buf_.erase(0, n);
        return out;
    }
    // Parses one response; `head_request` means no body follows.
    std::optional<Response> read(bool head_request = false) {
        auto head = readUntil("\r\n\r\n");
        if (!head) return std::nullopt;
        Response r;
        std::size_t line_end = head->find("\r\n");
        std::string status_line = head->substr(0, line_end);
        r.version = status_line.substr(0, 8);
        r.status = std::stoi(status_line.substr(9, 3));
        std::size_t pos = line_end + 2;
        while (pos < head->size() - 2) {
            std::size_t e = head->find("\r\n", pos);
            std::string line = head->substr(pos, e - pos);
            auto colon = line.find(':');
            std::string name = line.substr(0, colon);
            for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            r.headers[name] = value;
            pos = e + 2;
        }
        if (head_request || r.status < 200 || r.status == 204 || r.status == 304) return r;
        if (r.headers.count("content-length")) {
            auto body = readExact(std::stoull(r.headers["content-length"]));
            if (!body) return std::nullopt;
            r.body = *body;
        } else if (r.header("transfer-encoding") == "chunked") {
            for (;;) {
                auto line = readUntil("\r\n");
                if (!line) return std::nullopt;
                std::size_t n = std::stoul(*line, nullptr, 16);
                if (n == 0) {
                    if (!readUntil("\r\n")) return std::nullopt;
                    break;
                }
                auto data = readExact(n + 2);
                if (!data) return std::nullopt;
                r.body += data->substr(0, n);
            }
        } else {
            while (fill()) {}
            r.body = std::move(buf_);
            buf_.clear();
        }
        return r;
    }
    std::optional<Response> request(const std::string& raw, bool head_request = false) {
        if (!send(raw)) return std::nullopt;
        return read(head_request);
    }

private:
    int fd_ = -1;
    bool connected_ = false;
    bool eof_ = false;
    std::string buf_;
};

// A Server on 127.0.0.1:0 running on its own threads for the duration of a test.
class TestServer {
public:
    TestServer(ServerConfig cfg, Handler h) {
        cfg.bind_address = "127.0.0.1";
        cfg.port = 0;
        server = std::make_unique<Server>(std::move(cfg), std::move(h));
        auto r = server->start();
        if (!r) throw std::runtime_error(r.error().message);
        server->runInThreads();
    }
    ~TestServer() {
        server->stop();
        server->join();
    }
    std::uint16_t port() const { return server->port(); }
    std::unique_ptr<Server> server;
};

inline std::string get(const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

}  // namespace buntime::http::test
