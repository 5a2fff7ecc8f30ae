// SPDX-License-Identifier: MIT
// The supervisor↔worker message protocol carried in shm frames: message kinds, flags,
// and the binary encoding of request and response heads. Both sides validate every
// length they decode: what the peer wrote is untrusted.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace buntime::proto {

// Frame kinds (the shm FrameHeader::kind). Continuation frames of a chunked message use
// shm::kContinuationKind and shm::kFlagMore marks "more frames follow".
enum class Kind : std::uint16_t {
    Ready = 1,       // w→s: app loaded, init ran; head = ReadyInfo
    InitFailed = 2,  // w→s: head = reason; the worker exits after sending it
    Request = 3,     // s→w: head = RequestHead, body = first body bytes; request_id set
    Response = 4,    // w→s: head = ResponseHead, body = first body bytes
    Error = 5,       // w→s: head = reason; the request failed (supervisor answers 500)
    Cancel = 6,      // s→w: the client went away or the deadline passed; drop request_id
    Idle = 7,        // s→w: the worker has been idle for idleTimeout; call onIdle
    Terminate = 8,   // s→w: head = grace milliseconds (decimal); call onTerminate, exit 0
};

using Header = std::pair<std::string, std::string>;

struct RequestHead {
    std::string method;
    std::string target;       // as received: /app/rest?query
    std::string path;         // relative to the app base, starts with '/'
    std::string query;        // without '?'
    std::string base;         // x-base: "/app" or "/app@1.2" (no trailing slash)
    std::string request_id;   // x-request-id
    std::vector<Header> headers;
    std::int64_t content_length = -1;  // -1: unknown (chunked)
    std::uint64_t sent_ns = 0;         // CLOCK_MONOTONIC when the supervisor enqueued it
};

struct ResponseHead {
    std::uint16_t status = 200;
    std::vector<Header> headers;
    std::int64_t content_length = -1;  // -1: unknown, the supervisor uses chunked encoding
    // Timing for the IPC breakdown (CLOCK_MONOTONIC ns; 0 = not measured): when the worker
    // dequeued the request, how long the handler ran, when this head was enqueued.
    std::uint64_t request_received_ns = 0;
    std::uint64_t handler_ns = 0;
    std::uint64_t sent_ns = 0;
};

// CLOCK_MONOTONIC in nanoseconds: comparable between the supervisor and its workers.
std::uint64_t monotonicNs() noexcept;

struct ReadyInfo {
    std::string entrypoint_kind;  // "static", "so", "exec"
    std::uint32_t threads = 0;
    std::uint32_t concurrency = 0;
};

std::vector<std::byte> encode(const RequestHead& head);
std::vector<std::byte> encode(const ResponseHead& head);
std::vector<std::byte> encode(const ReadyInfo& info);
// Decoders return nullopt on any malformed or out-of-bounds input.
std::optional<RequestHead> decodeRequestHead(std::span<const std::byte> bytes);
std::optional<ResponseHead> decodeResponseHead(std::span<const std::byte> bytes);
std::optional<ReadyInfo> decodeReadyInfo(std::span<const std::byte> bytes);

// The allocation-free form of decodeRequestHead for the worker's hot path: decodes into an
// existing head, reusing its strings' capacity. False where decodeRequestHead returns
// nullopt (then `out` holds a partial decode).
bool decodeRequestHeadInto(std::span<const std::byte> bytes, RequestHead& out);

// A response head built header by header in one reusable buffer (the worker's hot path;
// encode(ResponseHead) is built with it): [u16 status][u32 count][headers...], then
// finish() appends content length and timing. Not thread-safe (one response, one holder).
class ResponseHeadBuilder {
public:
    ResponseHeadBuilder() { reset(); }
    void reset();
    void addHeader(std::string_view name, std::string_view value);
    std::uint32_t count() const noexcept { return count_; }
    // Stamps status and count, appends the length and the timing fields of ResponseHead;
    // call once per response. The span is valid until reset() or the next addHeader().
    std::span<const std::byte> finish(std::uint16_t status, std::int64_t content_length, std::uint64_t request_received_ns,
                                      std::uint64_t handler_ns, std::uint64_t sent_ns);

private:
    std::string buf_;
    std::uint32_t count_ = 0;
};

// Limits a worker enforces on what an app returns (a violation becomes a 500).
inline constexpr std::size_t kMaxResponseHeaders = 100;
inline constexpr std::size_t kMaxResponseHeaderBytes = 64 * 1024;
inline constexpr std::size_t kMaxHeaderValueBytes = 8 * 1024;

// Env var through which a worker finds its channel fds (shm::ChannelFds::toString()).
inline constexpr const char* kChannelEnv = "BUNTIME_CHANNEL";

} // namespace buntime::proto
