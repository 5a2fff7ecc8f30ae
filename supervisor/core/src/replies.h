// SPDX-License-Identifier: MIT
// Every error the supervisor answers a client with, in one table: status, code and
// Retry-After. The README's "Error statuses" table lists the same rows (tests/core checks it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "buntime/http/request_head.h"

namespace buntime::supervisor {

enum class Reply : std::uint8_t {
    ReservedPath,        // 404 NOT_FOUND: /_/… or /.well-known/… that is not an admin route
    NoAppInPath,         // 404 NOT_FOUND: "/" or a path without an app segment
    BadTarget,           // 400 BAD_REQUEST: traversal, bad app name or version range
    AppNotFound,         // 404 APP_NOT_FOUND: no such app, or no version matches
    AppConfigError,      // 500 APP_CONFIG_ERROR: broken manifest, name@version in two dirs
    ShuttingDown,        // 503 SHUTTING_DOWN (+ Retry-After)
    EphemeralQueueFull,  // 503 EPHEMERAL_WORKER_QUEUE_SATURATED (+ Retry-After)
    WorkerQueueFull,     // 503 WORKER_QUEUE_FULL (+ Retry-After): too many waiting for one key
    WorkerSpawnFailed,   // 503 WORKER_SPAWN_FAILED: no process could be started
    WorkerInitFailed,    // 503 WORKER_INIT_FAILED: the app failed to load or initialise
    NoWorker,            // 503 WORKER_UNAVAILABLE: the pool could not start a worker for the key
    WorkerVanished,      // 502 WORKER_UNAVAILABLE: the worker was gone before the request was sent
    WorkerCrashed,       // 502 WORKER_CRASHED: the worker exited with the request in flight
    BadWorkerResponse,   // 502 BAD_WORKER_RESPONSE: a malformed response head
    AppError,            // 500 APP_ERROR: the handler failed the request
    GatewayTimeout,      // 504 GATEWAY_TIMEOUT: no answer within the manifest's timeout
    WorkerUnresponsive,  // 502 WORKER_UNRESPONSIVE: the worker missed a liveness ping and was killed
    WorkerStartTimeout,  // 503 WORKER_START_TIMEOUT: the app did not become ready within startTimeout
    StartBackoff,        // 503 WORKER_START_BACKOFF (+ Retry-After: seconds to the next start attempt)
};

struct ReplySpec {
    Reply reply;
    unsigned status;
    std::string_view code;
    unsigned retry_after_s;  // 0: no Retry-After header
};

const ReplySpec& specOf(Reply reply) noexcept;
std::span<const ReplySpec> allReplies() noexcept;

// The part of a failure's detail a client may see: its first line, each absolute file path
// cut to its last component ("/srv/apps/x/manifest.yaml: key 'ttl'" → "manifest.yaml: key
// 'ttl'"), at most kClientReasonMax bytes. The full detail belongs in the log. Used for every
// reason that comes from an app, a manifest or a worker (start failures, handler errors).
inline constexpr std::size_t kClientReasonMax = 200;
std::string clientSafeReason(std::string_view detail);

// {"success": false, "code": code, "error": code, "message": message}; bytes that are not
// UTF-8 become U+FFFD (never throws on the content).
std::string errorBody(std::string_view code, std::string_view message);
http::Headers jsonHeaders();
// content-type, and Retry-After when the reply has one.
http::Headers errorHeaders(const ReplySpec& spec);

}  // namespace buntime::supervisor
