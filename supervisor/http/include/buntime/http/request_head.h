// SPDX-License-Identifier: MIT
// The parsed head of one HTTP request, as handed to the handler.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace buntime::http {

// Header list in arrival (or emission) order; names keep the client's case.
using Headers = std::vector<std::pair<std::string, std::string>>;

// Immutable once the handler is called, so it may be read from any thread.
struct RequestHead {
    std::string method;     // as sent, e.g. "GET"
    std::string target;     // request-target, e.g. "/app/x?y=1"
    unsigned version = 11;  // 10 or 11
    Headers headers;
    std::optional<std::uint64_t> content_length;
    bool chunked = false;            // Transfer-Encoding: chunked
    bool keep_alive = true;          // what the client asked for
    bool expect_continue = false;    // Expect: 100-continue
    std::string request_id;          // client's valid x-request-id, else a new UUID v4
    std::string remote;              // "ip:port", or "unix" for unix sockets
    bool from_admin_socket = false;  // accepted on the admin unix socket

    // First header named `name` (ASCII case-insensitive), or nullptr.
    const std::string* find(std::string_view name) const noexcept;
    // target without the query string.
    std::string_view path() const noexcept;
    bool isHead() const noexcept { return method == "HEAD"; }
    // Empties every field, keeping capacity (heads are reused per connection).
    void clear() noexcept;
};

// RFC 9112 §3.2: rewrites an absolute-form target ("http://host:port/p?q") to origin-form
// ("/p?q") with a Host field from its authority, replacing any Host the client sent. Then
// an HTTP/1.1 request must carry exactly one Host. False: the request is answered 400.
bool normalizeTargetAndHost(RequestHead& head);

// True when `id` is 1..200 visible ASCII characters (0x21..0x7e).
bool isValidRequestId(std::string_view id) noexcept;
// A random UUID v4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"); thread-safe (thread-local PRNG).
std::string newRequestId();
// Same, written into `out` (reusing its capacity).
void assignNewRequestId(std::string& out);

}  // namespace buntime::http
