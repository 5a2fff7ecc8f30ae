// SPDX-License-Identifier: MIT
// The reply table and JSON error bodies.
#include "replies.h"

#include <array>
#include <nlohmann/json.hpp>

namespace buntime::supervisor {
namespace {

constexpr std::array<ReplySpec, 16> kReplies{{
    {Reply::ReservedPath, 404, "NOT_FOUND", 0},
    {Reply::NoAppInPath, 404, "NOT_FOUND", 0},
    {Reply::BadTarget, 400, "BAD_REQUEST", 0},
    {Reply::AppNotFound, 404, "APP_NOT_FOUND", 0},
    {Reply::AppConfigError, 500, "APP_CONFIG_ERROR", 0},
    {Reply::ShuttingDown, 503, "SHUTTING_DOWN", 1},
    {Reply::EphemeralQueueFull, 503, "EPHEMERAL_WORKER_QUEUE_SATURATED", 1},
    {Reply::WorkerQueueFull, 503, "WORKER_QUEUE_FULL", 1},
    {Reply::WorkerSpawnFailed, 503, "WORKER_SPAWN_FAILED", 0},
    {Reply::WorkerInitFailed, 503, "WORKER_INIT_FAILED", 0},
    {Reply::NoWorker, 503, "WORKER_UNAVAILABLE", 0},
    {Reply::WorkerVanished, 502, "WORKER_UNAVAILABLE", 0},
    {Reply::WorkerCrashed, 502, "WORKER_CRASHED", 0},
    {Reply::BadWorkerResponse, 502, "BAD_WORKER_RESPONSE", 0},
    {Reply::AppError, 500, "APP_ERROR", 0},
    {Reply::GatewayTimeout, 504, "GATEWAY_TIMEOUT", 0},
}};

// The table is indexed by the enum: keep them in the same order.
constexpr bool inEnumOrder() {
    for (std::size_t i = 0; i < kReplies.size(); ++i)
        if (static_cast<std::size_t>(kReplies[i].reply) != i) return false;
    return true;
}
static_assert(inEnumOrder());

}  // namespace

const ReplySpec& specOf(Reply reply) noexcept { return kReplies[static_cast<std::size_t>(reply)]; }
std::span<const ReplySpec> allReplies() noexcept { return kReplies; }

std::string errorBody(std::string_view code, std::string_view message) {
    // Messages may carry bytes from apps and clients: invalid UTF-8 becomes U+FFFD instead
    // of a type_error thrown on the event loop.
    return nlohmann::json{{"error", code}, {"message", message}}.dump(-1, ' ', false,
                                                                      nlohmann::json::error_handler_t::replace);
}

http::Headers jsonHeaders() { return {{"content-type", "application/json"}}; }

http::Headers errorHeaders(const ReplySpec& spec) {
    auto headers = jsonHeaders();
    if (spec.retry_after_s) headers.emplace_back("retry-after", std::to_string(spec.retry_after_s));
    return headers;
}

}  // namespace buntime::supervisor
