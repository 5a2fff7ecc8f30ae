// SPDX-License-Identifier: MIT
// The reply table and JSON error bodies.
#include "replies.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

namespace buntime::supervisor {
namespace {

constexpr std::array<ReplySpec, 19> kReplies{{
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
    {Reply::WorkerUnresponsive, 502, "WORKER_UNRESPONSIVE", 0},
    {Reply::WorkerStartTimeout, 503, "WORKER_START_TIMEOUT", 0},
    {Reply::StartBackoff, 503, "WORKER_START_BACKOFF", 0},  // Retry-After is set per reply
}};

// The table is indexed by the enum: keep them in the same order.
constexpr bool inEnumOrder() {
    for (std::size_t i = 0; i < kReplies.size(); ++i)
        if (static_cast<std::size_t>(kReplies[i].reply) != i) return false;
    return true;
}
static_assert(inEnumOrder());

bool endsToken(char c) { return c == ' ' || c == '\t' || c == '\'' || c == '"' || c == ')' || c == ',' || c == '>'; }

// "redis://user:pw@host/0" becomes "redis://***@host/0": the userinfo of every URL, up to the
// last '@' of its token (a password may hold '/' or '@' unencoded; cutting more is safe).
std::string redactUrlCredentials(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    for (std::size_t sep; (sep = text.find("://", i)) != std::string_view::npos;) {
        const std::size_t start = sep + 3;
        std::size_t end = start;
        while (end < text.size() && !endsToken(text[end])) ++end;
        const auto at = text.substr(start, end - start).rfind('@');
        out.append(text.substr(i, start - i));
        if (at != std::string_view::npos) {
            out += "***";
            out.append(text.substr(start + at, end - start - at));
        } else {
            out.append(text.substr(start, end - start));
        }
        i = end;
    }
    out.append(text.substr(i));
    return out;
}

}  // namespace

std::string clientSafeReason(std::string_view text) {
    // A stack trace or a traceback follows the first line: keep only that line.
    const std::string redacted = redactUrlCredentials(text.substr(0, text.find_first_of("\r\n")));
    const std::string_view detail = redacted;
    std::string out;
    out.reserve(std::min(detail.size(), kClientReasonMax));
    std::size_t i = 0;
    while (i < detail.size()) {
        const char c = detail[i];
        // An absolute path starts a word ("/x", "'/x", "(/x", "file:///x" are all words here).
        const bool word_start = i == 0 || detail[i - 1] == ' ' || detail[i - 1] == '\'' || detail[i - 1] == '"' ||
                                detail[i - 1] == '(' || detail[i - 1] == '=' || detail[i - 1] == ':';
        if (c == '/' && i > 0 && detail[i - 1] == ':' && detail.substr(i, 3).starts_with("//") &&
            detail.substr(i, 3) != "///") {
            // A URL with a host ("redis://***@db:6379/0") is not a file path: kept as it is.
            std::size_t end = i;
            while (end < detail.size() && !endsToken(detail[end])) ++end;
            out.append(detail.substr(i, end - i));
            i = end;
            continue;
        }
        if (c == '/' && word_start) {
            std::size_t end = i;
            while (end < detail.size() && detail[end] != ' ' && detail[end] != '\'' && detail[end] != '"' &&
                   detail[end] != ')' && detail[end] != ',' &&
                   !(detail[end] == ':' && end + 1 < detail.size() && detail[end + 1] == ' '))
                ++end;
            auto path = detail.substr(i, end - i);
            while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
            const auto slash = path.rfind('/');
            out += slash == 0 && path.size() == 1 ? std::string_view("/") : path.substr(slash + 1);
            i = end;
            continue;
        }
        out += c >= 0 && c < 0x20 ? ' ' : c;  // a stray tab or control byte
        ++i;
    }
    if (out.size() > kClientReasonMax) {
        out.resize(kClientReasonMax - 3);
        // Do not leave half a UTF-8 sequence behind.
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
        if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80)) out.pop_back();
        out += "...";
    }
    return out;
}

const ReplySpec& specOf(Reply reply) noexcept { return kReplies[static_cast<std::size_t>(reply)]; }
std::span<const ReplySpec> allReplies() noexcept { return kReplies; }

std::string errorBody(std::string_view code, std::string_view message) {
    // The seed's {success, code, message} and the native error, the same code twice. Messages
    // may carry bytes from apps and clients: invalid UTF-8 becomes U+FFFD instead of a
    // type_error thrown on the event loop.
    return nlohmann::json{{"success", false}, {"code", code}, {"error", code}, {"message", message}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

http::Headers jsonHeaders() { return {{"content-type", "application/json"}}; }

http::Headers errorHeaders(const ReplySpec& spec) {
    auto headers = jsonHeaders();
    if (spec.retry_after_s) headers.emplace_back("retry-after", std::to_string(spec.retry_after_s));
    return headers;
}

}  // namespace buntime::supervisor
