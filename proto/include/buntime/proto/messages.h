// SPDX-License-Identifier: MIT
// The supervisor <-> worker wire contract, part 1: message kinds and head encodings.
// Included by both peers (supervisor/ipc and core, worker/); a peer in another language
// (the JavaScript addon) implements it from this header, stream.h, control.h and launch.h.
//
// TRANSPORT (shm/include/buntime/shm/layout.h has the exact layout). Each worker has one
// memfd segment with two single-producer/single-consumer byte rings: to_worker (requests)
// and to_supervisor (responses). A ring carries frames: a 32-byte FrameHeader
//   u32 magic "FRM1" | u16 kind | u16 flags | u32 generation | u32 head_len
//   u64 request_id | u32 body_len | u32 reserved
// then head_len head bytes, then body_len body bytes, padded to 8 bytes. Kind 0xffff is
// a pad frame (skip to the ring start); kind 0xfffe is a continuation (stream.h).
//
// MESSAGES. A message is one frame, or a first frame plus continuation frames when its
// body is streamed or larger than a frame (stream.h). Frames of different requests may
// interleave; frames of one message are in order. The request_id of a frame names the
// request it belongs to (0 for worker-wide messages).
//
//   kind            dir   head                    body          request_id
//   1 Ready         w->s  ReadyInfo               -             0
//   2 InitFailed    w->s  reason text (control.h) -             0
//   3 Request       s->w  RequestHead             request body  the request
//   4 Response      w->s  ResponseHead            response body the request
//   5 Error         w->s  reason text (control.h) -             the request
//   6 Cancel        s->w  -                       -             the request
//   7 Idle          s->w  -                       -             0
//   8 Terminate     s->w  grace (control.h)       -             0
//   9 Ping          s->w  u64 token (8 bytes)     -             0
//  10 Pong          w->s  the Ping's u64 token    -             0
//
// LIFECYCLE. A worker maps its segment (launch.h), loads the app and sends exactly one
// Ready, or InitFailed and exits with status 1. It then serves Requests until Terminate:
// after Terminate it refuses new requests with 503, calls the app's onTerminate, waits up
// to the grace for requests in flight and exits 0. Each Request gets exactly one Response
// (possibly continued) or one Error; the supervisor answers the client 500 on Error. After
// Cancel the worker drops the request; anything it still sends for that id is ignored.
// Idle only tells the app it has been idle for its idleTimeout (onIdle).
//
// LIVENESS. Ping and Pong are control messages (request_id 0, no body) on the same two
// rings as everything else. While a worker has requests in flight, the supervisor sends
// Ping every RUNTIME_WORKER_PING_MS; its head is exactly 8 bytes, an opaque u64 token,
// little-endian (e.g. token 0x0102030405060708 is head bytes 08 07 06 05 04 03 02 01).
// The worker answers with one Pong whose head is the same 8 bytes, from the thread that
// reads the request ring, without waiting for handler threads or the app. A Ping whose
// head is not 8 bytes is dropped (no Pong). A worker may skip a Pong when its response
// ring is full or another thread is writing to it: any frame the supervisor reads from a
// worker counts as a sign of life. A worker that sends neither a Pong nor any other frame
// within RUNTIME_WORKER_PING_MS of a Ping is killed (SIGKILL) and its requests in flight
// are answered 502 WORKER_UNRESPONSIVE. A Pong with an unknown token is ignored.
//
// ENCODING. All integers are little-endian. A string is u32 length + bytes (no NUL, at
// most 16 MiB, any bytes: validate before trusting them as UTF-8). A header list is u32
// count (at most 10,000) + count x (name string, value string). Decoders reject any
// short, overlong or trailing input: everything the peer wrote is untrusted.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace buntime::proto {

enum class Kind : std::uint16_t {
    Ready = 1,
    InitFailed = 2,
    Request = 3,
    Response = 4,
    Error = 5,
    Cancel = 6,
    Idle = 7,
    Terminate = 8,
    Ping = 9,
    Pong = 10,
};

constexpr std::uint16_t toWire(Kind kind) noexcept { return static_cast<std::uint16_t>(kind); }
std::string_view toString(Kind kind) noexcept;

using Header = std::pair<std::string, std::string>;

// Request head. Layout: method, target, path, query, base, request_id (6 strings), header
// list, i64 content_length, i64 sent_ns.
struct RequestHead {
    std::string method;
    std::string target;                // as received: /app/rest?query
    std::string path;                  // relative to the app base, starts with '/'
    std::string query;                 // without '?'
    std::string base;                  // x-base: "/app" or "/app@1.2" (no trailing slash)
    std::string request_id;            // x-request-id
    std::vector<Header> headers;       // as received, plus x-base and x-request-id set by the supervisor
    std::int64_t content_length = -1;  // -1: unknown (chunked); the body is then streamed
    std::uint64_t sent_ns = 0;         // CLOCK_MONOTONIC when the supervisor enqueued it

    bool operator==(const RequestHead&) const = default;
};

// Response head. Layout: u16 status (100..999), header list, i64 content_length,
// i64 request_received_ns, i64 handler_ns, i64 sent_ns.
struct ResponseHead {
    std::uint16_t status = 200;
    std::vector<Header> headers;       // never content-length or transfer-encoding: the supervisor frames the body
    std::int64_t content_length = -1;  // -1: unknown, the supervisor uses chunked encoding
    // Timing for the IPC breakdown (CLOCK_MONOTONIC ns; 0 = not measured): when the worker
    // dequeued the request, how long the handler ran, when this head was enqueued.
    std::uint64_t request_received_ns = 0;
    std::uint64_t handler_ns = 0;
    std::uint64_t sent_ns = 0;

    bool operator==(const ResponseHead&) const = default;
};

// Ready head. Layout: entrypoint_kind string, u32 threads, u32 concurrency.
struct ReadyInfo {
    std::string entrypoint_kind;  // "static", "so", "exec" (more kinds may follow)
    std::uint32_t threads = 0;
    std::uint32_t concurrency = 0;

    bool operator==(const ReadyInfo&) const = default;
};

std::vector<std::byte> encode(const RequestHead& head);
std::vector<std::byte> encode(const ResponseHead& head);
std::vector<std::byte> encode(const ReadyInfo& info);
// Decoders return nullopt on any malformed or out-of-bounds input.
std::optional<RequestHead> decodeRequestHead(std::span<const std::byte> bytes);
std::optional<ResponseHead> decodeResponseHead(std::span<const std::byte> bytes);
std::optional<ReadyInfo> decodeReadyInfo(std::span<const std::byte> bytes);

// Ping and Pong heads: the u64 token, 8 bytes little-endian. decodeToken returns nullopt
// unless `bytes` is exactly 8 bytes long.
std::vector<std::byte> encodeToken(std::uint64_t token);
std::optional<std::uint64_t> decodeToken(std::span<const std::byte> bytes) noexcept;

// The allocation-free form of decodeRequestHead for the worker's hot path: decodes into an
// existing head, reusing its strings' capacity. False where decodeRequestHead returns
// nullopt (then `out` holds a partial decode).
bool decodeRequestHeadInto(std::span<const std::byte> bytes, RequestHead& out);

// A response head built header by header in one reusable buffer (the worker's hot path;
// encode(ResponseHead) is built with it). Not thread-safe (one response, one holder).
class ResponseHeadBuilder {
public:
    ResponseHeadBuilder() { reset(); }
    void reset();
    void addHeader(std::string_view name, std::string_view value);
    std::uint32_t count() const noexcept { return count_; }
    // Stamps status and count, appends the length and the timing fields of ResponseHead;
    // call once per response. The span is valid until reset() or the next addHeader().
    std::span<const std::byte> finish(std::uint16_t status, std::int64_t content_length,
                                      std::uint64_t request_received_ns, std::uint64_t handler_ns,
                                      std::uint64_t sent_ns);

private:
    std::string buf_;
    std::uint32_t count_ = 0;
};

// Limits a worker enforces on what an app returns (a violation becomes a 500).
inline constexpr std::size_t kMaxResponseHeaders = 100;
inline constexpr std::size_t kMaxResponseHeaderBytes = 64 * 1024;
inline constexpr std::size_t kMaxHeaderValueBytes = 8 * 1024;

}  // namespace buntime::proto
