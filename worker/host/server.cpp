// SPDX-License-Identifier: MIT
// The worker's serving loop and the host function table given to apps.
#include "buntime/worker/server.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <exception>
#include <thread>

#include "buntime/worker/log.h"
#include "buntime/worker/timer.h"

namespace buntime::worker {
namespace {

using namespace std::chrono_literals;

// Small writes are gathered up to this size before a frame is sent; a response that
// ends below it goes out as one frame with its head and content_length.
constexpr std::size_t kFlushBytes = 64 * 1024;

Exchange* fromReq(const buntime_request* r) { return reinterpret_cast<Exchange*>(const_cast<buntime_request*>(r)); }
Exchange* fromRes(const buntime_response* r) { return reinterpret_cast<Exchange*>(const_cast<buntime_response*>(r)); }
buntime_str str(const std::string& s) { return buntime_str{s.data(), s.size()}; }

std::span<const std::byte> bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

struct TokenTable {
    bool ok[256] = {};
    constexpr TokenTable() {
        for (int c = '0'; c <= '9'; ++c) ok[c] = true;
        for (int c = 'a'; c <= 'z'; ++c) ok[c] = ok[c - 'a' + 'A'] = true;
        for (char c : std::string_view("!#$%&'*+-.^_`|~")) ok[static_cast<unsigned char>(c)] = true;
    }
};
constexpr TokenTable kToken;

bool validName(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        if (!kToken.ok[static_cast<unsigned char>(c)]) return false;
    }
    return true;
}

bool validValue(std::string_view value) {
    for (char c : value) {
        if (c == '\r' || c == '\n' || c == '\0') return false;
    }
    return true;
}

// Upper bound on pooled exchanges and on the buffers a pooled exchange may keep.
constexpr std::size_t kMaxPooled = 1024;
constexpr std::size_t kMaxPooledBuffer = 256 * 1024;
constexpr std::size_t kMaxPooledHead = 16 * 1024;

// --- host table: request accessors ---
buntime_str hMethod(const buntime_request* r) { return str(fromReq(r)->head.method); }
buntime_str hTarget(const buntime_request* r) { return str(fromReq(r)->head.target); }
buntime_str hPath(const buntime_request* r) { return str(fromReq(r)->head.path); }
buntime_str hQuery(const buntime_request* r) { return str(fromReq(r)->head.query); }
buntime_str hBase(const buntime_request* r) { return str(fromReq(r)->head.base); }
buntime_str hRequestId(const buntime_request* r) { return str(fromReq(r)->head.request_id); }
int hHeader(const buntime_request* r, const char* name, size_t len, buntime_str* value) {
    for (const auto& [k, v] : fromReq(r)->head.headers) {
        if (equalsIgnoreCase(k, std::string_view(name, len))) {
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
    log::Level l = level <= 0   ? log::Level::Debug
                   : level == 1 ? log::Level::Info
                   : level == 2 ? log::Level::Warn
                                : log::Level::Error;
    log::write(l, std::string_view(message ? message : "", message ? len : 0));
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

Server::Server(shm::Channel& channel, const ServerOptions& options, const buntime_app_v1* app, void* app_ctx)
    : channel_(channel),
      options_(options),
      app_(app),
      app_ctx_(app_ctx),
      async_(app->style == BUNTIME_STYLE_ASYNC),
      max_payload_(channel.maxPayload()),
      pool_(options.threads) {
    in_flight_map_.reserve(options.concurrency * 2);
    free_.reserve(kMaxPooled);
}

Server::~Server() = default;

int Server::run() {
    shm::FrameView frame;
    unsigned since_beat = 0;
    channel_.heartbeat();
    for (;;) {
        shm::Error e = channel_.receive(frame, 200ms);
        if (e == shm::Error::Ok) {
            handleFrame(frame);  // releases the frame
            if (++since_beat >= 1024) {
                since_beat = 0;
                channel_.heartbeat();
            }
            continue;
        }
        if (e == shm::Error::Timeout) {
            channel_.heartbeat();
            if (!channel_.peerAlive())
                e = shm::Error::PeerDead;
            else
                continue;
        }
        if (e == shm::Error::PeerDead) {
            closed_ = true;
            BUNTIME_LOG(Info, "supervisor is gone, exiting (status 0)");
            return 0;
        }
        BUNTIME_LOG(Error, "request ring is broken (%.*s), exiting (status 3)", int(shm::toString(e).size()),
                    shm::toString(e).data());
        return 3;
    }
}

void Server::handleFrame(const shm::FrameView& frame) {
    const std::uint16_t kind = frame.header.kind;
    if (kind == static_cast<std::uint16_t>(proto::Kind::Request)) return onRequest(frame);
    if (kind == shm::kContinuationKind) return onContinuation(frame);
    const std::uint64_t id = frame.header.request_id;
    std::string head(reinterpret_cast<const char*>(frame.head.data()), frame.head.size());
    channel_.release();
    switch (static_cast<proto::Kind>(kind)) {
    case proto::Kind::Cancel: onCancel(id); break;
    case proto::Kind::Idle:
        BUNTIME_LOG(Debug, "idle");
        if (app_->on_idle) pool_.post(&Server::runIdleHook, this);
        break;
    case proto::Kind::Terminate: onTerminate(head); break;
    default: BUNTIME_LOG(Warn, "dropping a frame of unexpected kind %u", unsigned(kind)); break;
    }
}

void Server::onRequest(const shm::FrameView& frame) {
    const std::uint64_t id = frame.header.request_id;
    const bool more = (frame.header.flags & shm::kFlagMore) != 0;
    Exchange* ex = acquire();
    ex->id = id;
    ex->head_bytes = frame.head.size();
    ex->received_ns = proto::monotonicNs();
    ex->handler_start_ns = ex->received_ns;
    if (!proto::decodeRequestHeadInto(frame.head, ex->head)) {
        channel_.release();
        BUNTIME_LOG(Warn, "dropping request %llu: malformed head", static_cast<unsigned long long>(id));
        sendError(id, "malformed request head");
        delete ex;
        return;
    }

    auto refuse = [&](std::uint16_t status, std::string_view text) {
        channel_.release();
        sendSimple(id, status, text);
        if (more) {
            ex->discard = true;
            ex->slot_released = true;
            assembling_[id] = ex;  // swallow its continuation frames
        } else {
            delete ex;
        }
    };
    if (terminating_.load(std::memory_order_relaxed)) return refuse(503, "worker is terminating\n");
    if (in_flight_.load(std::memory_order_relaxed) >= options_.concurrency) {
        BUNTIME_LOG(Warn, "request %llu over the concurrency limit %u", static_cast<unsigned long long>(id),
                    options_.concurrency);
        return refuse(503, "worker is at its concurrency limit\n");
    }
    const std::int64_t declared = ex->head.content_length;
    if ((declared > 0 && static_cast<std::uint64_t>(declared) > options_.max_body) ||
        frame.body.size() > options_.max_body)
        return refuse(413, "request body too large\n");

    in_flight_.fetch_add(1, std::memory_order_relaxed);
    if (more && declared > 0) ex->body.reserve(static_cast<std::size_t>(declared));
    ex->body.assign(reinterpret_cast<const char*>(frame.body.data()), frame.body.size());
    channel_.release();
    if (more) {
        auto [it, inserted] = assembling_.emplace(id, ex);
        if (!inserted) {
            BUNTIME_LOG(Warn, "duplicate request id %llu while assembling; dropping the older one",
                        static_cast<unsigned long long>(id));
            releaseSlot(it->second);
            delete it->second;
            it->second = ex;
        }
        return;
    }
    dispatch(ex);
}

void Server::onContinuation(const shm::FrameView& frame) {
    const std::uint64_t id = frame.header.request_id;
    const bool more = (frame.header.flags & shm::kFlagMore) != 0;
    auto it = assembling_.find(id);
    if (it == assembling_.end()) {
        channel_.release();
        BUNTIME_LOG(Debug, "dropping a continuation of unknown request %llu", static_cast<unsigned long long>(id));
        return;
    }
    Exchange* ex = it->second;
    if (!ex->discard) {
        if (ex->body.size() + frame.body.size() > options_.max_body) {
            ex->discard = true;
            releaseSlot(ex);
            sendSimple(id, 413, "request body too large\n");
        } else {
            ex->body.append(reinterpret_cast<const char*>(frame.body.data()), frame.body.size());
        }
    }
    channel_.release();
    if (more) return;
    assembling_.erase(it);
    if (ex->discard) {
        delete ex;
        return;
    }
    dispatch(ex);
}

void Server::onCancel(std::uint64_t id) {
    if (auto it = assembling_.find(id); it != assembling_.end()) {
        Exchange* ex = it->second;
        assembling_.erase(it);
        releaseSlot(ex);
        delete ex;
        return;
    }
    std::lock_guard lock(map_mutex_);
    if (auto it = in_flight_map_.find(id); it != in_flight_map_.end()) {
        Exchange* ex = it->second;
        ex->cancelled.store(true, std::memory_order_relaxed);
        releaseSlot(ex);
        ex->node = in_flight_map_.extract(it);
        BUNTIME_LOG(Debug, "request %llu cancelled", static_cast<unsigned long long>(id));
    }
}

void Server::onTerminate(std::string_view grace_text) {
    if (terminating_.exchange(true)) return;
    std::uint64_t grace_ms = 5000;
    std::from_chars(grace_text.data(), grace_text.data() + grace_text.size(), grace_ms);
    BUNTIME_LOG(Info, "terminating (grace %llu ms, %u in flight)", static_cast<unsigned long long>(grace_ms),
                inFlight());
    std::thread([this, grace_ms] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
        if (app_->on_terminate) {
            try {
                app_->on_terminate(app_ctx_);
            } catch (...) {
                BUNTIME_LOG(Error, "onTerminate threw");
            }
        }
        {
            std::unique_lock lock(drain_mutex_);
            drained_.wait_until(lock, deadline, [this] { return in_flight_.load() == 0; });
        }
        std::uint32_t left = in_flight_.load();
        if (left > 0) BUNTIME_LOG(Warn, "grace elapsed with %u requests in flight", left);
        BUNTIME_LOG(Info, "exiting (status 0)");
        // No send lock: a sender may be stuck on a full ring, and a frame is only
        // published once complete, so leaving mid-write shows the supervisor nothing.
        ::_exit(0);
    }).detach();
}

void Server::dispatch(Exchange* ex) {
    {
        std::lock_guard lock(map_mutex_);
        if (ex->node.empty()) {
            in_flight_map_[ex->id] = ex;
        } else {
            ex->node.key() = ex->id;
            ex->node.mapped() = ex;
            auto r = in_flight_map_.insert(std::move(ex->node));
            if (!r.inserted) r.position->second = ex;  // duplicate id: the newer one wins
        }
    }
    if (async_)
        callHandler(ex);
    else
        pool_.post(&Server::runJob, ex);
}

void Server::runJob(void* arg) noexcept {
    auto* ex = static_cast<Exchange*>(arg);
    ex->server->callHandler(ex);
}

void Server::runIdleHook(void* arg) noexcept {
    auto* self = static_cast<Server*>(arg);
    try {
        self->app_->on_idle(self->app_ctx_);
    } catch (...) {
        BUNTIME_LOG(Error, "onIdle threw");
    }
}

void Server::callHandler(Exchange* ex) noexcept {
    if (ex->cancelled.load(std::memory_order_relaxed)) {
        end(ex);
        unref(ex);
        return;
    }
    if (!async_) ex->handler_start_ns = proto::monotonicNs();  // after the pool queue
    auto* req = reinterpret_cast<buntime_request*>(ex);
    auto* res = reinterpret_cast<buntime_response*>(ex);
    int rc = 0;
    std::string reason = "handler failed";
    try {
        rc = app_->handle(app_ctx_, req, res);
    } catch (const std::exception& e) {
        rc = -1;
        reason = e.what();
    } catch (...) {
        rc = -1;
        reason = "handler threw";
    }
    // The handler's own reference keeps `ex` alive here even if the response ended. An
    // async response that handle() accepted (rc == 0) may be ending on another thread now,
    // so it is not touched.
    if (rc != 0) {
        if (!ex->ended) fail(ex, ex->failure.empty() ? std::string_view(reason) : std::string_view(ex->failure));
    } else if (!async_ && !ex->ended) {
        end(ex);
    }
    unref(ex);
}

int Server::setStatus(Exchange* ex, int status) noexcept {
    if (ex->ended || ex->head_sent) return BUNTIME_E_STATE;
    if (status < 100 || status > 999) return BUNTIME_E_INVALID;
    ex->status = static_cast<std::uint16_t>(status);
    return BUNTIME_OK;
}

int Server::addHeader(Exchange* ex, std::string_view name, std::string_view value) noexcept {
    if (ex->ended || ex->head_sent) return BUNTIME_E_STATE;
    if (!ex->failure.empty()) return BUNTIME_E_LIMIT;
    if (!validName(name) || !validValue(value)) return BUNTIME_E_INVALID;
    // The host owns the framing of the body.
    if (equalsIgnoreCase(name, "content-length") || equalsIgnoreCase(name, "transfer-encoding")) return BUNTIME_OK;
    if (ex->response_head.count() >= proto::kMaxResponseHeaders) {
        ex->failure = "app returned more than " + std::to_string(proto::kMaxResponseHeaders) + " headers";
    } else if (value.size() > proto::kMaxHeaderValueBytes) {
        ex->failure = "app returned a header value over " + std::to_string(proto::kMaxHeaderValueBytes) + " bytes";
    } else if (ex->header_bytes + name.size() + value.size() > proto::kMaxResponseHeaderBytes) {
        ex->failure = "app returned more than " + std::to_string(proto::kMaxResponseHeaderBytes) + " bytes of headers";
    }
    if (!ex->failure.empty()) {
        BUNTIME_LOG(Warn, "request %llu: %s", static_cast<unsigned long long>(ex->id), ex->failure.c_str());
        return BUNTIME_E_LIMIT;
    }
    try {
        ex->response_head.addHeader(name, value);
    } catch (...) {
        ex->failure = "out of memory";
        return BUNTIME_E_LIMIT;
    }
    ex->header_bytes += name.size() + value.size();
    return BUNTIME_OK;
}

int Server::setLength(Exchange* ex, std::int64_t length) noexcept {
    if (ex->ended || ex->head_sent) return BUNTIME_E_STATE;
    if (length < 0) return BUNTIME_E_INVALID;
    ex->declared_length = length;
    return BUNTIME_OK;
}

int Server::write(Exchange* ex, const void* data, std::size_t len) noexcept {
    if (ex->ended) return BUNTIME_E_STATE;
    if (ex->cancelled.load(std::memory_order_relaxed)) return BUNTIME_E_CANCELLED;
    if (!ex->failure.empty()) return BUNTIME_E_LIMIT;
    if (len == 0) return BUNTIME_OK;
    ex->written += static_cast<std::int64_t>(len);
    if (ex->declared_length >= 0 && ex->written > ex->declared_length) {
        ex->failure = "app wrote more than the declared length";
        return BUNTIME_E_INVALID;
    }
    const auto* p = static_cast<const char*>(data);
    try {
        if (ex->buffer.size() + len <= kFlushBytes) {
            ex->buffer.append(p, len);
            return BUNTIME_OK;
        }
        if (!ex->buffer.empty()) {
            if (int rc = sendBody(ex, bytes(ex->buffer), false); rc != BUNTIME_OK) return rc;
            ex->buffer.clear();
        }
        if (len < kFlushBytes) {
            ex->buffer.append(p, len);
            return BUNTIME_OK;
        }
    } catch (...) {
        ex->failure = "out of memory";
        return BUNTIME_E_LIMIT;
    }
    return sendBody(ex, {reinterpret_cast<const std::byte*>(p), len}, false);
}

int Server::end(Exchange* ex) noexcept {
    if (ex->ended) return BUNTIME_E_STATE;
    ex->ended = true;
    int rc = BUNTIME_OK;
    if (ex->cancelled.load(std::memory_order_relaxed)) {
        rc = BUNTIME_E_CANCELLED;
    } else if (!ex->failure.empty()) {
        sendError(ex->id, ex->failure);
        rc = BUNTIME_E_LIMIT;
    } else if (ex->declared_length >= 0 && ex->written != ex->declared_length && ex->head.method != "HEAD") {
        sendError(ex->id, "app wrote fewer bytes than the declared length");
        rc = BUNTIME_E_STATE;
    } else {
        rc = sendBody(ex, bytes(ex->buffer), true);
    }
    complete(ex);
    return rc;
}

int Server::fail(Exchange* ex, std::string_view reason) noexcept {
    if (ex->ended) return BUNTIME_E_STATE;
    ex->ended = true;
    BUNTIME_LOG(Warn, "request %llu failed: %.*s", static_cast<unsigned long long>(ex->id), int(reason.size()),
                reason.data());
    if (!ex->cancelled.load(std::memory_order_relaxed)) sendError(ex->id, reason.empty() ? "request failed" : reason);
    complete(ex);
    return BUNTIME_OK;
}

int Server::sendBody(Exchange* ex, std::span<const std::byte> data, bool last) noexcept {
    for (;;) {
        if (ex->cancelled.load(std::memory_order_relaxed)) return BUNTIME_E_CANCELLED;
        std::uint16_t kind = shm::kContinuationKind;
        std::span<const std::byte> head;
        if (!ex->head_sent) {
            std::int64_t length = -1;
            if (ex->declared_length >= 0)
                length = ex->declared_length;
            else if (last)
                length = static_cast<std::int64_t>(data.size());
            try {
                const std::uint64_t now = proto::monotonicNs();
                head = ex->response_head.finish(ex->status, length, ex->received_ns, now - ex->handler_start_ns, now);
            } catch (...) {
                sendError(ex->id, "out of memory");
                return BUNTIME_E_LIMIT;
            }
            if (head.size() >= max_payload_) {
                ex->head_sent = true;  // nothing of it was sent; the error replaces it
                sendError(ex->id, "response head does not fit a frame");
                return BUNTIME_E_LIMIT;
            }
            kind = static_cast<std::uint16_t>(proto::Kind::Response);
        }
        const std::size_t chunk = std::min(data.size(), max_payload_ - head.size());
        const bool more = !last || chunk < data.size();
        int rc = sendFrame(kind, more ? shm::kFlagMore : 0, ex->id, head, data.first(chunk), ex);
        if (rc != BUNTIME_OK) return rc;
        ex->head_sent = true;
        data = data.subspan(chunk);
        if (data.empty()) return BUNTIME_OK;
    }
}

int Server::sendFrame(std::uint16_t kind, std::uint16_t flags, std::uint64_t id, std::span<const std::byte> head,
                      std::span<const std::byte> body, const Exchange* ex) noexcept {
    if (closed_.load(std::memory_order_relaxed)) return BUNTIME_E_CLOSED;
    shm::Outgoing out{kind, flags, id, head, body};
    std::lock_guard lock(send_mutex_);
    for (;;) {
        shm::Error e = channel_.send(out, 1s);
        if (e == shm::Error::Ok) return BUNTIME_OK;
        if (e == shm::Error::Timeout) {
            if (ex && ex->cancelled.load(std::memory_order_relaxed)) return BUNTIME_E_CANCELLED;
            if (channel_.peerAlive()) continue;
        }
        if (e == shm::Error::TooLarge) return BUNTIME_E_LIMIT;
        closed_ = true;
        return BUNTIME_E_CLOSED;
    }
}

void Server::sendSimple(std::uint64_t id, std::uint16_t status, std::string_view text) noexcept {
    try {
        proto::ResponseHead rh;
        rh.status = status;
        rh.headers.emplace_back("content-type", "text/plain; charset=utf-8");
        rh.content_length = static_cast<std::int64_t>(text.size());
        auto head = proto::encode(rh);
        sendFrame(static_cast<std::uint16_t>(proto::Kind::Response), 0, id, head, bytes(text), nullptr);
    } catch (...) {
        sendError(id, "out of memory");
    }
}

void Server::sendError(std::uint64_t id, std::string_view reason) noexcept {
    if (reason.size() > 4096) reason = reason.substr(0, 4096);
    sendFrame(static_cast<std::uint16_t>(proto::Kind::Error), 0, id, bytes(reason), {}, nullptr);
}

void Server::releaseSlot(Exchange* ex) noexcept {
    if (ex->slot_released.exchange(true)) return;
    if (in_flight_.fetch_sub(1) == 1 && terminating_.load()) {
        std::lock_guard lock(drain_mutex_);
        drained_.notify_all();
    }
}

void Server::complete(Exchange* ex) noexcept {
    {
        std::lock_guard lock(map_mutex_);
        if (auto it = in_flight_map_.find(ex->id); it != in_flight_map_.end() && it->second == ex)
            ex->node = in_flight_map_.extract(it);
    }
    releaseSlot(ex);
    unref(ex);
}

void Exchange::reset() noexcept {
    refs.store(2, std::memory_order_relaxed);
    cancelled.store(false, std::memory_order_relaxed);
    slot_released.store(false, std::memory_order_relaxed);
    discard = false;
    status = 200;
    response_head.reset();
    header_bytes = 0;
    declared_length = -1;
    written = 0;
    buffer.clear();
    failure.clear();
    body.clear();
    head_sent = false;
    ended = false;
}

Exchange* Server::acquire() {
    Exchange* ex = nullptr;
    {
        std::lock_guard lock(free_mutex_);
        if (!free_.empty()) {
            ex = free_.back();
            free_.pop_back();
        }
    }
    if (!ex) {
        ex = new Exchange();
        ex->server = this;
    }
    return ex;
}

void Server::unref(Exchange* ex) noexcept {
    if (ex->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (ex->body.capacity() <= kMaxPooledBuffer && ex->buffer.capacity() <= kMaxPooledBuffer &&
        ex->head_bytes <= kMaxPooledHead) {
        ex->reset();
        std::lock_guard lock(free_mutex_);
        if (free_.size() < kMaxPooled) {
            free_.push_back(ex);
            return;
        }
    }
    delete ex;
}

}  // namespace buntime::worker
