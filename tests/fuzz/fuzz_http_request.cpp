// SPDX-License-Identifier: MIT
// Fuzz target: raw bytes from a client into the supervisor's HTTP server (Beast request parser).
//
// The parser (RequestParser in supervisor/http/src/connection.h) needs a live
// Connection, so the target drives a real http::Server listening on a unix socket in
// this process (same code path as TCP, no TIME_WAIT). Each input is sent on a fresh
// connection, followed by a half-close. Properties: the server answers within a few
// seconds with bytes starting "HTTP/1.x " or closes without a word, and keeps serving
// (a well-formed probe request is answered 200 every 32 inputs).
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "buntime/http/server.h"
#include "fuzz_check.h"

using namespace buntime::http;

namespace {

constexpr int kAnswerTimeoutMs = 5000;  // well above the server's own 1 s head/idle timeouts

void handle(std::shared_ptr<Exchange> ex) {
    ex->setBodyLimit(16 * 1024);
    const RequestHead& h = ex->head();
    // Touch what a real handler reads.
    const std::string* host = h.find("host");
    std::string summary = h.method + " " + std::string(h.path()) + " " + (host ? *host : std::string("-"));
    const bool stream = h.target.find("stream") != std::string::npos;
    auto size = std::make_shared<std::size_t>(0);
    auto reader = std::make_shared<BodyCallback>();
    *reader = [ex, size, reader, summary, stream](const BodyEvent& e) {
        if (e.status == BodyStatus::Data) {
            *size += e.data.size();
            ex->readBody(*reader);
            return;
        }
        if (e.status == BodyStatus::End) {
            const std::string body = summary + " " + std::to_string(*size);
            if (stream) {
                ex->startResponse(200, {{"content-type", "text/plain"}}, std::nullopt);
                ex->writeBodyCopy(body, nullptr);
                ex->endResponse();
            } else {
                ex->respond(200, {{"content-type", "text/plain"}}, body);
            }
        } else if (e.status == BodyStatus::Error) {
            ex->respond(400);
        }
        *reader = nullptr;  // break the self-reference cycle
    };
    ex->readBody(*reader);
}

// A run that crashed (abort skips destructors) leaves its socket directory behind; the
// next run removes those of processes that are gone.
void removeStaleDirs() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/tmp", ec)) {
        const std::string name = e.path().filename().string();
        constexpr std::string_view kPrefix = "buntime-fuzz-http-";
        if (!name.starts_with(kPrefix)) continue;
        const long pid = std::strtol(name.c_str() + kPrefix.size(), nullptr, 10);
        if (pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) std::filesystem::remove_all(e.path(), ec);
    }
}

struct Fixture {
    std::filesystem::path dir;
    std::string socket_path;
    std::unique_ptr<Server> server;
    std::uint64_t runs = 0;

    Fixture() {
        removeStaleDirs();
        dir = std::filesystem::path("/tmp") / ("buntime-fuzz-http-" + std::to_string(::getpid()));
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        FUZZ_CHECK(std::filesystem::create_directory(dir, ec));
        socket_path = (dir / "http.sock").string();
        ServerConfig cfg;
        cfg.listen_tcp = false;
        cfg.unix_socket_path = socket_path;
        cfg.threads = 1;
        cfg.header_limit = 8 * 1024;
        cfg.read_buffer_size = 4 * 1024;
        cfg.header_timeout = std::chrono::milliseconds(1000);
        cfg.idle_timeout = std::chrono::milliseconds(1000);
        cfg.linger_timeout = std::chrono::milliseconds(200);
        server = std::make_unique<Server>(cfg, handle);
        const auto r = server->start();
        if (!r) std::fprintf(stderr, "fuzz_http_request: %s\n", r.error().message.c_str());
        FUZZ_CHECK(static_cast<bool>(r));
        server->runInThreads();
    }
    ~Fixture() {
        server->stop();
        server->join();
        server.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

Fixture& fixture() {
    static Fixture f;  // one server for the whole run; destroyed at exit
    return f;
}

// Sends `input`, half-closes, and returns everything the server wrote until it closed.
// Returns false if the server neither answered nor closed in time.
bool exchange(const std::string& path, std::string_view input, std::string& reply) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    FUZZ_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    for (std::size_t off = 0; off < input.size();) {
        const ssize_t n = ::send(fd, input.data() + off, input.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may close early (e.g. 431): read what it said
        off += std::size_t(n);
    }
    ::shutdown(fd, SHUT_WR);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kAnswerTimeoutMs);
    char buf[4096];
    bool closed = false;
    while (!closed) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, int(left.count())) <= 0) continue;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            closed = true;  // EOF or reset: both are a clean end for this property
        } else if (reply.size() < (1u << 20)) {
            reply.append(buf, std::size_t(n));
        }
    }
    ::close(fd);
    return closed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Fixture& f = fixture();
    std::string reply;
    const bool closed = exchange(f.socket_path, std::string_view(reinterpret_cast<const char*>(data), size), reply);
    if (!closed) std::fprintf(stderr, "fuzz_http_request: no answer and no close within %d ms\n", kAnswerTimeoutMs);
    FUZZ_CHECK(closed);
    FUZZ_CHECK(reply.empty() || reply.starts_with("HTTP/1.1 ") || reply.starts_with("HTTP/1.0 "));

    if (++f.runs % 32 == 0) {
        std::string probe;
        FUZZ_CHECK(exchange(f.socket_path, "GET /probe HTTP/1.1\r\nhost: fuzz\r\nconnection: close\r\n\r\n", probe));
        FUZZ_CHECK(probe.starts_with("HTTP/1.1 200 "));
    }
    return 0;
}
