// SPDX-License-Identifier: MIT
// One request/response exchange between the HTTP front and its handler.
#pragma once

#include "buntime/http/request_head.h"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace buntime::http {

namespace detail {
class Connection;
class RequestParser;
}  // namespace detail

enum class BodyStatus {
    Data,      // `data` holds the next piece of the request body
    End,       // the body is complete (also returned by every later readBody)
    Error,     // malformed body, client gone or exchange no longer current
    TooLarge,  // the body exceeds setBodyLimit(); the server already answered 413 (or aborted)
};

struct BodyEvent {
    BodyStatus status;
    std::span<const std::byte> data;  // valid only until the callback returns
};

using BodyCallback = std::function<void(const BodyEvent&)>;
using WriteCallback = std::function<void(bool ok)>;

// One request and its response. Created by the server, handed to the Handler as a
// shared_ptr; the handler may keep it as long as it likes (it keeps its connection
// object alive, not the socket: calls after the connection closed are ignored and
// callbacks report failure). Release every Exchange before destroying the Server: an
// exchange refers to its loop's io_context.
//
// Thread-safety: every method may be called from any thread; off the connection's
// executor the call is posted to it (so ordering between calls made from one thread is
// kept). All callbacks run on the connection's executor. head() and startedAt() are
// immutable and may be read anywhere.
//
// Response rules: exactly one of respond() or startResponse()...endResponse(). Calls that
// do not fit the state (a second respond, writeBody before startResponse, ...) are
// ignored; writeBody's callback then gets false. If the response completes while the
// request body was not fully read, the connection is closed after the response
// ("connection: close" is sent when this is known at head time).
class Exchange : public std::enable_shared_from_this<Exchange> {
public:
    struct Key {  // construction is reserved to the server
        explicit Key() = default;
    };
    Exchange(Key, std::shared_ptr<detail::Connection> connection);
    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;
    ~Exchange();

    const RequestHead& head() const noexcept { return head_; }
    std::chrono::steady_clock::time_point startedAt() const noexcept { return started_at_; }
    // The connection's event loop (for timers or posting work next to this exchange).
    boost::asio::io_context::executor_type executor() const noexcept;

    // Maximum request body in bytes. If content-length exceeds it, 413 is sent at once
    // (before any body byte is read; "100 Continue" is never sent) and the connection
    // closes; readBody then reports TooLarge. For chunked bodies it is enforced while
    // streaming: 413 (or abort if the response already started) and close.
    void setBodyLimit(std::uint64_t limit);

    // Delivers the next piece of the request body (at most the read buffer size, 32 KiB
    // by default), End, Error or TooLarge — exactly one event per call. Nothing more is
    // read from the socket until readBody is called again (backpressure). With
    // "Expect: 100-continue" the first call sends "HTTP/1.1 100 Continue" (only if the
    // response has not started). At most one readBody may be pending. Called on the loop
    // thread with bytes already buffered, the callback runs before readBody returns (a
    // readBody issued from inside the callback is queued, not recursed).
    void readBody(BodyCallback callback);

    // A complete response with content-length: body.size(). HEAD, 1xx, 204 and 304
    // responses carry no body (HEAD keeps the content-length header).
    void respond(unsigned status, Headers headers = {}, std::string body = {});

    // A streamed response. With content_length the body must be exactly that long
    // (endResponse with fewer bytes closes the connection; extra bytes are dropped).
    // Without it: chunked for HTTP/1.1 clients, close-delimited for HTTP/1.0.
    // Handler headers named content-length, transfer-encoding, connection, keep-alive,
    // server or x-request-id are dropped (the server sets them), as are headers whose
    // name or value contains CR/LF.
    void startResponse(unsigned status, Headers headers, std::optional<std::uint64_t> content_length);
    // Queues `data` for the socket WITHOUT copying: the bytes must stay valid until `done`
    // runs. `done(true)` fires when the bytes were handed to the socket (so a slow client
    // paces the caller); `done(false)` if the connection failed or the call was out of
    // place. `done` may be empty. Never invoked re-entrantly from inside writeBody.
    void writeBody(std::span<const std::byte> data, WriteCallback done);
    // Same, but the exchange copies `data` (convenient for small pieces).
    void writeBodyCopy(std::string data, WriteCallback done);
    void endResponse();

    // Fired once if the connection closes (client gone, write error, server stop, timeout)
    // before the response completed. Not fired for abort().
    void onClientGone(std::function<void()> callback);
    // Closes the connection now (e.g. the worker crashed mid-body).
    void abort();

    // Fields for the access log line.
    void setLogFields(std::string app, int worker_pid);

private:
    friend class detail::Connection;
    friend class detail::RequestParser;
    template <class F>
    void dispatch(F&& f);

    std::shared_ptr<detail::Connection> connection_;
    RequestHead head_;
    std::chrono::steady_clock::time_point started_at_{};
    std::uint64_t seq_ = 0;  // which request of the connection this is (stale-call guard)
};

}  // namespace buntime::http
