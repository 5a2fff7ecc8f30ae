// SPDX-License-Identifier: MIT
// Blocking client of the supervisor's admin API (/_/api/...) over TCP or an admin unix socket.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace buntime::ctl {

// Where the supervisor listens. Built by parseEndpoint / unixEndpoint; value type.
struct Endpoint {
    enum class Kind { Tcp, Unix };
    Kind kind = Kind::Tcp;
    std::string scheme = "http";  // Tcp only
    std::string host;             // Tcp only; IPv6 literals without brackets
    int port = 0;                 // Tcp only
    std::string socket_path;      // Unix only

    // What error messages name: "http://127.0.0.1:8000" or "unix:/run/buntime/admin.sock".
    std::string display() const;
};

// Accepts "http://host:port", "host:port", "http://[::1]:8000" (a trailing "/" is fine);
// nullopt with `error` set for anything else (other schemes, paths, bad ports).
std::optional<Endpoint> parseEndpoint(std::string_view url, std::string& error);
Endpoint unixEndpoint(std::string path);

// The outcome of one admin call.
struct Reply {
    enum class Outcome {
        Ok,           // 2xx
        HttpError,    // the supervisor answered with a non-2xx status
        Unreachable,  // no HTTP answer at all (refused, missing socket, timeout, reset)
    };
    Outcome outcome = Outcome::Unreachable;
    int status = 0;      // HTTP status when there was an answer
    std::string body;    // response body when there was an answer
    std::string detail;  // Unreachable: why, e.g. "Connection refused"
};

// One connection target, optional bearer token, per-call timeout.
// Not thread-safe: use one Client per thread. Every call opens its own connection.
class Client {
public:
    Client(Endpoint endpoint, std::string token, std::chrono::milliseconds timeout);

    Reply get(std::string_view path) const;
    Reply post(std::string_view path) const;
    // GET with the body handed to `on_data` as it arrives (a long-lived stream such as
    // server-sent events; the read timeout is at least a minute, longer than a heartbeat).
    // `on_data` returns false to stop. A non-2xx answer is returned whole in Reply::body.
    Reply stream(std::string_view path, const std::function<bool(std::string_view)>& on_data) const;
    // Any method (GET, POST, DELETE) with a body; `read_timeout` replaces the per-call
    // timeout for reading the answer and writing the body (uploads).
    Reply send(std::string_view method, std::string_view path, std::string body, std::string_view content_type,
               std::chrono::milliseconds read_timeout) const;

    const Endpoint& endpoint() const { return endpoint_; }

private:
    Reply call(bool post, std::string_view path) const;

    Endpoint endpoint_;
    std::string token_;
    std::chrono::milliseconds timeout_;
};

// Percent-encodes one path segment (keeps unreserved characters and '@').
std::string encodePathSegment(std::string_view segment);

}  // namespace buntime::ctl
