// SPDX-License-Identifier: MIT
// Closed-loop HTTP/1.1 load client: one Asio thread drives N keep-alive connections.
#pragma once

#include "buntime/harness/config.h"
#include "buntime/harness/result.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace buntime::harness {

struct HttpEndpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
};

// The exact bytes sent for a scenario (built once per run).
std::string buildRequestBytes(const Scenario& s, const std::string& hostHeader);

// Incremental HTTP/1.x response parser: status line, headers, then a Content-Length,
// chunked or read-until-close body. The body is counted, not stored. 1xx interim
// responses are skipped. Not thread-safe; one per connection.
class ResponseParser {
public:
    enum class Status { NeedMore, Done, Error };

    void reset();
    // Parses data[0, len); `consumed` bytes may be dropped by the caller. Headers are
    // consumed only once complete, so the caller must keep unconsumed bytes and append.
    Status feed(const char* data, std::size_t len, std::size_t& consumed);
    // The peer closed: Done when the body is delimited by close, else Error.
    Status finishOnEof();

    bool headersStarted() const { return state_ != State::Headers; }
    int status() const { return status_; }
    bool keepAlive() const { return keepAlive_; }
    std::uint64_t bodyBytes() const { return bodyBytes_; }

private:
    enum class State { Headers, Body, ChunkSize, ChunkData, ChunkCrlf, Trailers, UntilClose, Done };
    Status parseHeaders(const char* data, std::size_t len, std::size_t& consumed);

    State state_ = State::Headers;
    int status_ = 0;
    bool keepAlive_ = true;
    std::uint64_t remaining_ = 0;
    std::uint64_t bodyBytes_ = 0;
};

// Runs warm-up then the measured phase against `endpoint`; blocks the calling thread.
// Errors: timeouts (no complete reply within params.timeout_ms), connection failures and
// status >= 400. Latency is recorded for every complete reply (any status).
ScenarioResult runHttpLoad(const HttpEndpoint& endpoint, const Scenario& scenario, const LoadParams& params);

}  // namespace buntime::harness
