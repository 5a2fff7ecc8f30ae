// SPDX-License-Identifier: MIT
// The worker's serving loop: requests in, responses out (the host table is host_table.cpp).
#include "buntime/worker/server.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>

#include "buntime/base/ascii.h"
#include "buntime/base/clock.h"
#include "buntime/proto/control.h"
#include "log.h"

namespace buntime::worker {
namespace {

using namespace std::chrono_literals;

constexpr auto kIdleWake = 5s;  // heartbeat of an idle worker

// Small writes are gathered up to this size before a frame is sent; a response that
// ends below it goes out as one frame with its head and content_length.
constexpr std::size_t kFlushBytes = 64 * 1024;

using proto::bytesOf;

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

unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }

}  // namespace

Server::Server(shm::Channel& channel, const ServerOptions& options, const buntime_app_v1* app, void* app_ctx)
    : channel_(channel),
      options_(options),
      app_(app),
      app_ctx_(app_ctx),
      async_(app->style == BUNTIME_STYLE_ASYNC),
      max_payload_(channel.maxPayload()),
      assembling_(options.max_body),
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
        // The wait also ends when the supervisor dies (its pidfd is polled too): the timeout
        // only paces the heartbeat, and an idle worker should not wake often (500 per host).
        shm::Error e = channel_.receive(frame, kIdleWake);
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
    if (kind == proto::toWire(proto::Kind::Request)) return onRequest(frame);
    if (proto::isContinuation(frame.header)) return onContinuation(frame);
    const std::uint64_t id = frame.header.request_id;
    const auto grace = kind == proto::toWire(proto::Kind::Terminate) ? proto::decodeTerminate(frame.head)
                                                                     : proto::kDefaultTerminateGrace;
    const auto token = kind == proto::toWire(proto::Kind::Ping) ? proto::decodeToken(frame.head) : std::nullopt;
    channel_.release();
    switch (static_cast<proto::Kind>(kind)) {
    case proto::Kind::Ping:
        if (token) answerPing(*token);
        break;
    case proto::Kind::Cancel: onCancel(id); break;
    case proto::Kind::Idle:
        BUNTIME_LOG(Debug, "idle");
        if (app_->on_idle) pool_.post(&Server::runIdleHook, this);
        break;
    case proto::Kind::Terminate: onTerminate(grace); break;
    default: BUNTIME_LOG(Warn, "dropping a frame of unexpected kind %u", unsigned(kind)); break;
    }
}

void Server::onRequest(const shm::FrameView& frame) {
    const std::uint64_t id = frame.header.request_id;
    const bool more = proto::hasMore(frame.header);
    Exchange* ex = acquire();
    ex->id = id;
    ex->head_bytes = frame.head.size();
    ex->received_ns = base::monotonicNs();
    ex->handler_start_ns = ex->received_ns;
    if (!proto::decodeRequestHeadInto(frame.head, ex->head)) {
        channel_.release();
        BUNTIME_LOG(Warn, "dropping request %llu: malformed head", ull(id));
        sendError(id, "malformed request head");
        recycle(ex);
        return;
    }

    // Answered before any body byte is kept; the rest of a refused body is dropped as it
    // arrives (a null state in assembling_).
    auto refuse = [&](std::uint16_t status, std::string_view text) {
        channel_.release();
        sendSimple(id, status, text);
        recycle(ex);
        if (more) dispose(assembling_.open(id, nullptr, 0));
    };
    if (terminating_.load(std::memory_order_relaxed)) return refuse(503, "worker is terminating\n");
    if (admitted_.load(std::memory_order_relaxed) >= options_.concurrency) {
        BUNTIME_LOG(Warn, "request %llu over the concurrency limit %u", ull(id), options_.concurrency);
        return refuse(503, "worker is at its concurrency limit\n");
    }
    const std::int64_t declared = ex->head.content_length;
    if ((declared > 0 && static_cast<std::uint64_t>(declared) > options_.max_body) ||
        frame.body.size() > options_.max_body)
        return refuse(413, "request body too large\n");

    admitted_.fetch_add(1, std::memory_order_relaxed);
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    if (more && declared > 0) ex->body.reserve(static_cast<std::size_t>(declared));
    ex->body.assign(reinterpret_cast<const char*>(frame.body.data()), frame.body.size());
    channel_.release();
    if (!more) return dispatch(ex);
    dispose(assembling_.open(id, ex, frame.body.size()));
}

void Server::dispose(std::optional<Exchange*> older) noexcept {
    if (!older || !*older) return;
    BUNTIME_LOG(Warn, "duplicate request id %llu while assembling; dropping the older one", ull((*older)->id));
    releaseSlot(*older);
    recycle(*older);
}

void Server::onContinuation(const shm::FrameView& frame) {
    const std::uint64_t id = frame.header.request_id;
    const auto step = assembling_.next(frame.header);
    if (step.malformed) {
        channel_.release();
        BUNTIME_LOG(Warn, "request %llu: a continuation frame with a head; dropping the request", ull(id));
        if (auto ex = assembling_.close(id); ex && *ex) {
            releaseSlot(*ex);
            recycle(*ex);
            sendError(id, "malformed continuation frame");
        }
        return;
    }
    if (!step.slot) {
        channel_.release();
        BUNTIME_LOG(Debug, "dropping a continuation of unknown request %llu", ull(id));
        return;
    }
    Exchange* ex = step.slot->state;
    if (ex && step.crossed_limit) {
        releaseSlot(ex);
        recycle(ex);
        ex = step.slot->state = nullptr;  // drop the rest
        sendSimple(id, 413, "request body too large\n");
    } else if (ex) {
        ex->body.append(reinterpret_cast<const char*>(frame.body.data()), frame.body.size());
    }
    channel_.release();
    if (!step.last) return;
    assembling_.close(id);
    if (ex) dispatch(ex);
}

void Server::onCancel(std::uint64_t id) {
    if (auto ex = assembling_.close(id)) {  // its body was still arriving
        if (*ex) {
            releaseSlot(*ex);
            recycle(*ex);
        }
        return;
    }
    std::lock_guard lock(map_mutex_);
    if (auto it = in_flight_map_.find(id); it != in_flight_map_.end()) {
        Exchange* ex = it->second;
        ex->cancelled.store(true, std::memory_order_relaxed);
        releaseSlot(ex);
        ex->node = in_flight_map_.extract(it);
        BUNTIME_LOG(Debug, "request %llu cancelled", ull(id));
    }
}

void Server::onTerminate(std::chrono::milliseconds grace) {
    if (terminating_.exchange(true)) return;
    BUNTIME_LOG(Info, "terminating (grace %lld ms, %u in flight)", static_cast<long long>(grace.count()), inFlight());
    if (inFlight() == 0 && !app_->on_terminate) {
        // Nothing to wait for (every ephemeral worker ends here): no drain thread, whose
        // creation and the exit of a two-threaded process cost more than the request.
        BUNTIME_LOG(Info, "exiting (status 0)");
        std::fflush(nullptr);
        ::_exit(0);
    }
    std::thread([this, grace] {
        const auto deadline = base::Clock::now() + grace;
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
    if (!async_) ex->handler_start_ns = base::monotonicNs();  // after the pool queue
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
    if (base::iequals(name, "content-length") || base::iequals(name, "transfer-encoding")) return BUNTIME_OK;
    if (ex->response_head.count() >= proto::kMaxResponseHeaders) {
        ex->failure = "app returned more than " + std::to_string(proto::kMaxResponseHeaders) + " headers";
    } else if (value.size() > proto::kMaxHeaderValueBytes) {
        ex->failure = "app returned a header value over " + std::to_string(proto::kMaxHeaderValueBytes) + " bytes";
    } else if (ex->header_bytes + name.size() + value.size() > proto::kMaxResponseHeaderBytes) {
        ex->failure = "app returned more than " + std::to_string(proto::kMaxResponseHeaderBytes) + " bytes of headers";
    }
    if (!ex->failure.empty()) {
        BUNTIME_LOG(Warn, "request %llu: %s", ull(ex->id), ex->failure.c_str());
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
            if (int rc = sendBody(ex, bytesOf(ex->buffer), false); rc != BUNTIME_OK) return rc;
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

int Server::flush(Exchange* ex) noexcept {
    if (ex->ended) return BUNTIME_E_STATE;
    if (ex->buffer.empty() || !ex->failure.empty()) return BUNTIME_OK;
    const int rc = sendBody(ex, bytesOf(ex->buffer), false);
    ex->buffer.clear();
    return rc;
}

int Server::end(Exchange* ex) noexcept {
    if (ex->ended) return BUNTIME_E_STATE;
    ex->ended = true;
    releaseAdmission(ex);
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
        rc = sendBody(ex, bytesOf(ex->buffer), true);
    }
    complete(ex);
    return rc;
}

int Server::fail(Exchange* ex, std::string_view reason) noexcept {
    if (ex->ended) return BUNTIME_E_STATE;
    ex->ended = true;
    releaseAdmission(ex);
    BUNTIME_LOG(Warn, "request %llu failed: %.*s", ull(ex->id), int(reason.size()), reason.data());
    if (!ex->cancelled.load(std::memory_order_relaxed)) sendError(ex->id, reason.empty() ? "request failed" : reason);
    complete(ex);
    return BUNTIME_OK;
}

int Server::sendBody(Exchange* ex, std::span<const std::byte> data, bool last) noexcept {
    if (ex->cancelled.load(std::memory_order_relaxed)) return BUNTIME_E_CANCELLED;
    // The first piece of a response carries its head; later pieces are continuations.
    shm::Outgoing piece{proto::kContinuationKind, last ? std::uint16_t{0} : proto::kFlagMore, ex->id, {}, data};
    if (!ex->head_sent) {
        std::int64_t length = -1;
        if (ex->declared_length >= 0)
            length = ex->declared_length;
        else if (last)
            length = static_cast<std::int64_t>(data.size());
        try {
            const std::uint64_t now = base::monotonicNs();
            piece.head = ex->response_head.finish(ex->status, length, ex->received_ns, now - ex->handler_start_ns, now);
        } catch (...) {
            sendError(ex->id, "out of memory");
            return BUNTIME_E_LIMIT;
        }
        piece.kind = proto::toWire(proto::Kind::Response);
    }
    proto::FrameSplitter frames(piece, max_payload_);
    if (!frames.valid()) {
        ex->head_sent = true;  // nothing of it was sent; the error replaces it
        sendError(ex->id, "response head does not fit a frame");
        return BUNTIME_E_LIMIT;
    }
    while (!frames.done()) {
        if (ex->cancelled.load(std::memory_order_relaxed)) return BUNTIME_E_CANCELLED;
        if (int rc = sendFrame(frames.next(), ex); rc != BUNTIME_OK) return rc;
        ex->head_sent = true;
    }
    return BUNTIME_OK;
}

int Server::sendFrame(const shm::Outgoing& frame, const Exchange* ex) noexcept {
    if (closed_.load(std::memory_order_relaxed)) return BUNTIME_E_CLOSED;
    std::lock_guard lock(send_mutex_);
    for (;;) {
        shm::Error e = channel_.send(frame, 1s);
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

// Answered from the reading thread, never waiting: if a handler thread is writing (or the
// ring is full) the supervisor hears from this worker through that frame instead.
void Server::answerPing(std::uint64_t token) noexcept {
    if (closed_.load(std::memory_order_relaxed)) return;
    std::unique_lock lock(send_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    const auto head = proto::encodeToken(token);
    static_cast<void>(channel_.trySend(proto::frame(proto::Kind::Pong, 0, head)));
}

void Server::sendSimple(std::uint64_t id, std::uint16_t status, std::string_view text) noexcept {
    try {
        proto::ResponseHead rh;
        rh.status = status;
        rh.headers.emplace_back("content-type", "text/plain; charset=utf-8");
        rh.content_length = static_cast<std::int64_t>(text.size());
        const auto head = proto::encode(rh);
        sendFrame(proto::frame(proto::Kind::Response, id, head, bytesOf(text)), nullptr);
    } catch (...) {
        sendError(id, "out of memory");
    }
}

void Server::sendError(std::uint64_t id, std::string_view reason) noexcept {
    sendFrame(proto::frame(proto::Kind::Error, id, bytesOf(proto::encodeReason(reason))), nullptr);
}

void Server::releaseAdmission(Exchange* ex) noexcept {
    if (!ex->admission_released.exchange(true)) admitted_.fetch_sub(1, std::memory_order_relaxed);
}

void Server::releaseSlot(Exchange* ex) noexcept {
    releaseAdmission(ex);
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
    admission_released.store(false, std::memory_order_relaxed);
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
    if (ex->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) recycle(ex);
}

void Server::recycle(Exchange* ex) noexcept {
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
