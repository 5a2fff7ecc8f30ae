// SPDX-License-Identifier: MIT
// Blocking client of the supervisor's admin API (/_/api/...) over TCP or an admin unix socket.
#include "buntime/ctl/client.h"

#include <httplib.h>

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "buntime/base/unique_fd.h"

namespace buntime::ctl {

namespace {

// httplib reports only "Connection" when connect() fails; redo the connect once to learn
// errno so the operator reads "Connection refused" or "No such file or directory".
std::string probeConnectError(const Endpoint& endpoint) {
    if (endpoint.kind == Endpoint::Kind::Unix) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (endpoint.socket_path.size() >= sizeof address.sun_path) {
            return "socket path too long";
        }
        std::memcpy(address.sun_path, endpoint.socket_path.c_str(), endpoint.socket_path.size());
        const base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd) {
            return std::strerror(errno);
        }
        const int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
        const int error = errno;
        return rc == 0 ? "connection failed" : std::strerror(error);
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(endpoint.port);
    if (const int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        return ::gai_strerror(rc);
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);
    std::string last = "connection failed";
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        const base::UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
        if (!fd) {
            last = std::strerror(errno);
            continue;
        }
        const int rc = ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
        const int error = errno;
        if (rc != 0) {
            last = std::strerror(error);
        }
    }
    return last;
}

std::string describe(httplib::Error error, const Endpoint& endpoint) {
    switch (error) {
    case httplib::Error::Connection: return probeConnectError(endpoint);
    case httplib::Error::ConnectionTimeout: return "connection timed out";
    case httplib::Error::Read: return "no answer: connection closed or timed out while reading";
    case httplib::Error::Write: return "connection closed while sending";
    default: return httplib::to_string(error);
    }
}

bool parsePort(std::string_view text, int& port) {
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, port);
    return ec == std::errc{} && ptr == end && port > 0 && port < 65536;
}

// A one-request client for `endpoint` (no keep-alive: buntimectl makes one call and exits).
std::unique_ptr<httplib::Client> openClient(const Endpoint& endpoint, std::chrono::milliseconds connect_timeout,
                                            std::chrono::milliseconds read_timeout,
                                            std::chrono::milliseconds write_timeout) {
    std::unique_ptr<httplib::Client> http;
    if (endpoint.kind == Endpoint::Kind::Unix) {
        http = std::make_unique<httplib::Client>(endpoint.socket_path);
        http->set_address_family(AF_UNIX);
    } else {
        http = std::make_unique<httplib::Client>(endpoint.host, endpoint.port);
    }
    http->set_connection_timeout(connect_timeout);
    http->set_read_timeout(read_timeout);
    http->set_write_timeout(write_timeout);
    http->set_keep_alive(false);
    return http;
}

httplib::Headers requestHeaders(const char* accept, const std::string& token) {
    httplib::Headers headers{{"Accept", accept}};
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return headers;
}

}  // namespace

std::string Endpoint::display() const {
    if (kind == Kind::Unix) {
        return "unix:" + socket_path;
    }
    const bool v6 = host.find(':') != std::string::npos;
    return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<Endpoint> parseEndpoint(std::string_view url, std::string& error) {
    Endpoint endpoint;
    if (const auto pos = url.find("://"); pos != std::string_view::npos) {
        endpoint.scheme = std::string(url.substr(0, pos));
        url.remove_prefix(pos + 3);
        if (endpoint.scheme != "http") {
            error = "unsupported scheme '" + endpoint.scheme + "' (use http:// or --socket)";
            return std::nullopt;
        }
    }
    if (!url.empty() && url.back() == '/') {
        url.remove_suffix(1);
    }
    if (url.find('/') != std::string_view::npos) {
        error = "the URL must not have a path (the admin API lives at /_/api)";
        return std::nullopt;
    }
    std::string_view portText;
    if (!url.empty() && url.front() == '[') {
        const auto close = url.find(']');
        if (close == std::string_view::npos) {
            error = "unterminated IPv6 address";
            return std::nullopt;
        }
        endpoint.host = std::string(url.substr(1, close - 1));
        const std::string_view rest = url.substr(close + 1);
        if (!rest.empty() && rest.front() == ':') {
            portText = rest.substr(1);
        } else if (!rest.empty()) {
            error = "unexpected text after the IPv6 address";
            return std::nullopt;
        }
    } else if (const auto colon = url.rfind(':'); colon != std::string_view::npos) {
        endpoint.host = std::string(url.substr(0, colon));
        portText = url.substr(colon + 1);
    } else {
        endpoint.host = std::string(url);
    }
    if (endpoint.host.empty()) {
        error = "missing host";
        return std::nullopt;
    }
    endpoint.port = 80;
    if (!portText.empty() && !parsePort(portText, endpoint.port)) {
        error = "invalid port '" + std::string(portText) + "'";
        return std::nullopt;
    }
    return endpoint;
}

Endpoint unixEndpoint(std::string path) {
    Endpoint endpoint;
    endpoint.kind = Endpoint::Kind::Unix;
    endpoint.socket_path = std::move(path);
    return endpoint;
}

Client::Client(Endpoint endpoint, std::string token, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), token_(std::move(token)), timeout_(timeout) {}

Reply Client::get(std::string_view path) const { return call(false, path); }
Reply Client::post(std::string_view path) const { return call(true, path); }

Reply Client::call(bool post, std::string_view path) const {
    return send(post ? "POST" : "GET", path, std::string(), "application/json", timeout_);
}

Reply Client::send(std::string_view method, std::string_view path, std::string body, std::string_view content_type,
                   std::chrono::milliseconds read_timeout) const {
    auto http = openClient(endpoint_, timeout_, read_timeout, read_timeout);
    const auto headers = requestHeaders("application/json", token_);
    const std::string target(path);
    const httplib::Result result = method == "POST"     ? http->Post(target, headers, body, std::string(content_type))
                                   : method == "DELETE" ? http->Delete(target, headers)
                                                        : http->Get(target, headers);

    Reply reply;
    if (!result) {
        reply.outcome = Reply::Outcome::Unreachable;
        reply.detail = describe(result.error(), endpoint_);
        return reply;
    }
    reply.status = result->status;
    reply.body = result->body;
    reply.outcome = result->status >= 200 && result->status < 300 ? Reply::Outcome::Ok : Reply::Outcome::HttpError;
    return reply;
}

Reply Client::stream(std::string_view path, const std::function<bool(std::string_view)>& on_data) const {
    auto http = openClient(endpoint_, timeout_, std::max<std::chrono::milliseconds>(timeout_, std::chrono::minutes(1)),
                           timeout_);
    const auto headers = requestHeaders("text/event-stream", token_);
    Reply reply;
    bool stopped = false;
    const httplib::Result result = http->Get(
        std::string(path), headers,
        [&](const httplib::Response& response) {
            reply.status = response.status;
            return true;
        },
        [&](const char* data, std::size_t size) {
            if (reply.status < 200 || reply.status >= 300) {
                reply.body.append(data, size);
                return true;
            }
            stopped = !on_data(std::string_view(data, size));
            return !stopped;
        });
    if (!result && !stopped) {
        reply.outcome = Reply::Outcome::Unreachable;
        reply.detail = describe(result.error(), endpoint_);
        return reply;
    }
    reply.outcome = reply.status >= 200 && reply.status < 300 ? Reply::Outcome::Ok : Reply::Outcome::HttpError;
    return reply;
}

std::string encodePathSegment(std::string_view segment) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : segment) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@' || c == '+') {
            out += c;
        } else {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        }
    }
    return out;
}

}  // namespace buntime::ctl
