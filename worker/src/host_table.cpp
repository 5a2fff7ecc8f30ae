// SPDX-License-Identifier: MIT
// The host function table given to apps (buntime_host_v1): C-ABI trampolines from the
// app's opaque handles to the Exchange and Server behind them.
#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include "buntime/base/ascii.h"
#include "buntime/worker/server.h"
#include "buntime/worker/timer.h"
#include "log.h"

namespace buntime::worker {
namespace {

// An app's log message is cut here, like the host's own (base::logFormat).
constexpr std::size_t kMaxAppLogBytes = 8 * 1024;

Exchange* fromReq(const buntime_request* r) { return reinterpret_cast<Exchange*>(const_cast<buntime_request*>(r)); }
Exchange* fromRes(const buntime_response* r) { return reinterpret_cast<Exchange*>(const_cast<buntime_response*>(r)); }
buntime_str str(const std::string& s) { return buntime_str{s.data(), s.size()}; }

// --- host table: request accessors ---
buntime_str hMethod(const buntime_request* r) { return str(fromReq(r)->head.method); }
buntime_str hTarget(const buntime_request* r) { return str(fromReq(r)->head.target); }
buntime_str hPath(const buntime_request* r) { return str(fromReq(r)->head.path); }
buntime_str hQuery(const buntime_request* r) { return str(fromReq(r)->head.query); }
buntime_str hBase(const buntime_request* r) { return str(fromReq(r)->head.base); }
buntime_str hRequestId(const buntime_request* r) { return str(fromReq(r)->head.request_id); }
int hHeader(const buntime_request* r, const char* name, size_t len, buntime_str* value) {
    for (const auto& [k, v] : fromReq(r)->head.headers) {
        if (base::iequals(k, std::string_view(name, len))) {
            if (value) *value = str(v);
            return 1;
        }
    }
    return 0;
}
size_t hHeaderCount(const buntime_request* r) { return fromReq(r)->head.headers.size(); }
int hHeaderAt(const buntime_request* r, size_t i, buntime_str* name, buntime_str* value) {
    const auto& hs = fromReq(r)->head.headers;
    if (i >= hs.size()) return BUNTIME_E_INVALID;
    if (name) *name = str(hs[i].first);
    if (value) *value = str(hs[i].second);
    return BUNTIME_OK;
}
buntime_str hBody(const buntime_request* r) { return str(fromReq(r)->body); }

// --- host table: response ---
int hSetStatus(buntime_response* r, int status) { return fromRes(r)->server->setStatus(fromRes(r), status); }
int hAddHeader(buntime_response* r, const char* n, size_t nl, const char* v, size_t vl) {
    return fromRes(r)->server->addHeader(fromRes(r), std::string_view(n, nl), std::string_view(v, vl));
}
int hSetLength(buntime_response* r, int64_t length) { return fromRes(r)->server->setLength(fromRes(r), length); }
int hWrite(buntime_response* r, const void* data, size_t len) {
    return fromRes(r)->server->write(fromRes(r), data, len);
}
int hEnd(buntime_response* r) { return fromRes(r)->server->end(fromRes(r)); }
int hFail(buntime_response* r, const char* reason, size_t len) {
    return fromRes(r)->server->fail(fromRes(r), std::string_view(reason ? reason : "", reason ? len : 0));
}
int hCancelled(const buntime_response* r) { return fromRes(r)->cancelled.load(std::memory_order_relaxed) ? 1 : 0; }

// --- host table: services ---
int hAfter(uint64_t ms, buntime_callback fn, void* ctx) {
    if (!fn) return BUNTIME_E_INVALID;
    try {
        TimerService::instance().after(std::chrono::milliseconds(std::min<uint64_t>(ms, 1ull << 40)), fn, ctx);
    } catch (...) {
        return BUNTIME_E_STATE;
    }
    return BUNTIME_OK;
}
void hLog(int level, const char* message, size_t len) {
    const base::LogLevel l = level <= BUNTIME_LOG_DEBUG  ? base::LogLevel::Debug
                             : level == BUNTIME_LOG_INFO ? base::LogLevel::Info
                             : level == BUNTIME_LOG_WARN ? base::LogLevel::Warn
                                                         : base::LogLevel::Error;
    if (!base::logEnabled(l)) return;
    const std::string_view text(message ? message : "", message ? std::min(len, kMaxAppLogBytes) : 0);
    base::logLine(l, detail::log_category, text);
}

const buntime_host_v1 kHostTable{
    BUNTIME_APP_ABI_VERSION,
    sizeof(buntime_host_v1),
    hMethod,
    hTarget,
    hPath,
    hQuery,
    hBase,
    hRequestId,
    hHeader,
    hHeaderCount,
    hHeaderAt,
    hBody,
    hSetStatus,
    hAddHeader,
    hSetLength,
    hWrite,
    hEnd,
    hFail,
    hCancelled,
    hAfter,
    hLog,
};

}  // namespace

const buntime_host_v1* Server::hostTable() noexcept { return &kHostTable; }

}  // namespace buntime::worker
