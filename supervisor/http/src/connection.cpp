// SPDX-License-Identifier: MIT
// One HTTP/1.x connection: head parsing, body streaming, timeouts (responses are in
// connection_response.cpp).
#include "connection.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <span>

#include "buntime/base/ascii.h"
#include "buntime/http/client_address.h"

namespace buntime::http::detail {

namespace beast = boost::beast;
using base::iequals;
using boost::system::error_code;

namespace {

std::string remoteOf(Socket& s, bool is_unix) {
    if (is_unix) return "unix";
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(s.native_handle(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "unknown";
    char host[INET6_ADDRSTRLEN] = {0};
    unsigned port = 0;
    if (ss.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        return std::string(host) + ":" + std::to_string(port);
    }
    if (ss.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        return "[" + std::string(host) + "]:" + std::to_string(port);
    }
    return "unix";
}

}  // namespace

// ---- parser callbacks --------------------------------------------------------------

void RequestParser::on_request_impl(beast::http::verb, string_view method, string_view target, int version,
                                    error_code&) {
    auto& h = c_.exchange_->head_;
    h.method.assign(method.data(), method.size());
    h.target.assign(target.data(), target.size());
    h.version = static_cast<unsigned>(version);
}

void RequestParser::on_response_impl(int, string_view, int, error_code& ec) {
    ec = beast::http::error::bad_method;  // never called for request parsers
}

void RequestParser::on_field_impl(beast::http::field f, string_view name, string_view value, error_code&) {
    // Chunked trailers are dropped: the head is immutable once the handler has it.
    if (is_header_done()) return;
    auto& h = c_.exchange_->head_;
    if (f == beast::http::field::transfer_encoding) te_seen = true;
    if (f == beast::http::field::expect && iequals({value.data(), value.size()}, "100-continue"))
        h.expect_continue = true;
    h.headers.emplace_back(std::piecewise_construct, std::forward_as_tuple(name.data(), name.size()),
                           std::forward_as_tuple(value.data(), value.size()));
}

std::size_t RequestParser::on_body_impl(string_view body, error_code&) {
    body_ptr = body.data();
    body_len = body.size();
    return body.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view body, error_code&) {
    body_ptr = body.data();
    body_len = body.size();
    return body.size();
}

// ---- lifetime ------------------------------------------------------------------------

Connection::Connection(ServerState& server, Loop& loop, Socket socket, bool admin, bool is_unix)
    : server_(server), loop_(loop), socket_(std::move(socket)), timer_(loop.ioc), admin_(admin), is_unix_(is_unix) {
    // Link into the loop's list (we are on the loop's thread).
    next = loop_.first;
    if (next) next->prev = this;
    loop_.first = this;
}

Connection::~Connection() {
    releaseCounts();
    unlink();
}

void Connection::releaseCounts() {
    if (counted_) {
        counted_ = false;
        server_.connections.fetch_sub(1, std::memory_order_acq_rel);
    }
    if (!ip_.empty()) {
        std::lock_guard lock(server_.per_ip_mutex);
        if (auto it = server_.per_ip.find(ip_); it != server_.per_ip.end() && --it->second == 0)
            server_.per_ip.erase(it);
        ip_.clear();
    }
}

void Connection::unlink() {
    if (prev)
        prev->next = next;
    else if (loop_.first == this)
        loop_.first = next;
    if (next) next->prev = prev;
    prev = next = nullptr;
}

void Connection::start() {
    counted_ = true;  // the acceptor already incremented server_.connections
    if (!is_unix_) {
        int one = 1;
        ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    cap_ = std::max(server_.cfg.read_buffer_size, server_.cfg.header_limit + 1024);
    buf_.reset(new char[cap_]);
    remote_ = remoteOf(socket_, is_unix_);
    staging_.reserve(512);
    wstaging_.reserve(512);
    idle_since_ = Clock::now();
    setDeadline(idle_since_ + server_.cfg.header_timeout);
    idle_ = false;  // a fresh connection is expected to send a head promptly
    parseHead();
}

void Connection::startRejected() {
    cap_ = 4096;
    buf_.reset(new char[cap_]);
    remote_ = remoteOf(socket_, is_unix_);
    sendError(503);
}

void Connection::closeIfIdle() {
    if (phase_ == Phase::Head && begin_ == end_ && !parser_) closeNow(false);
}

void Connection::closeNow(bool client_gone) {
    if (phase_ == Phase::Closed) return;
    bool in_exchange = phase_ == Phase::Request && resp_ != Resp::Done && exchange_;
    phase_ = Phase::Closed;
    error_code ec;
    socket_.close(ec);
    timer_.cancel();
    ++timer_gen_;
    if (in_exchange) {
        resp_ = Resp::Done;
        server_.active.fetch_sub(1, std::memory_order_relaxed);
        logAccess(status_ ? status_ : 499);
        if (body_cb_) {
            auto cb = std::move(body_cb_);
            body_cb_ = nullptr;
            cb(BodyEvent{BodyStatus::Error, {}});
        }
        if (client_gone && gone_cb_) {
            auto cb = std::move(gone_cb_);
            gone_cb_ = nullptr;
            cb();
        }
    }
    gone_cb_ = nullptr;
    // Pending (never written) write callbacks learn the failure now; in-flight ones
    // get it from onWrite.
    for (auto& cb : cbs_)
        if (cb) postDone(std::move(cb), false);
    cbs_.clear();
    releaseCounts();
    unlink();
    exchange_.reset();  // breaks the exchange → connection cycle
}

// ---- reading -------------------------------------------------------------------------

void Connection::startRead() {
    if (reading_ || phase_ == Phase::Closed) return;
    if (end_ == cap_ && begin_ > 0) {
        std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (end_ == cap_) return;  // full: wait for the consumer
    reading_ = true;
    socket_.async_read_some(asio::buffer(buf_.get() + end_, cap_ - end_),
                            [self = shared_from_this()](const error_code& ec, std::size_t n) { self->onRead(ec, n); });
}

void Connection::onRead(const error_code& ec, std::size_t n) {
    reading_ = false;
    if (phase_ == Phase::Closed) return;
    if (phase_ == Phase::Lingering) {
        if (ec) return closeNow(false);
        begin_ = end_ = 0;  // discard
        return startRead();
    }
    if (ec) return closeNow(true);
    end_ += n;
    if (phase_ == Phase::Head) return parseHead();
    if (body_waiting_) bodyArrived();
    // Request phase: either the handler waits for body bytes, or this was the read that
    // watches for the client leaving (pipelined bytes are kept for later).
    if (body_cb_) return continueBody();
    if (body_done_) startRead();
}

void Connection::beginRequest() {
    if (!exchange_ || exchange_.use_count() != 1)
        exchange_ = std::make_shared<Exchange>(Exchange::Key{}, shared_from_this());
    else
        exchange_->head_.clear();
    parser_.emplace(*this);
    parser_->header_limit(static_cast<std::uint32_t>(server_.cfg.header_limit));
    parser_->body_limit(boost::none);
    head_bytes_ = 0;
}

void Connection::parseHead() {
    for (;;) {
        if (phase_ != Phase::Head) return;
        if (begin_ == end_) {
            if (!reading_) begin_ = end_ = 0;
            return startRead();
        }
        if (!parser_) beginRequest();
        error_code ec;
        std::size_t used = parser_->put(asio::const_buffer(buf_.get() + begin_, end_ - begin_), ec);
        begin_ += used;
        head_bytes_ += used;
        if (ec == beast::http::error::need_more) {
            if (head_bytes_ + (end_ - begin_) >= server_.cfg.header_limit) return sendError(431);
            // The head is incomplete: from now on it must complete within header_timeout.
            if (deadline_ == Clock::time_point::max() || idle_) {
                idle_ = false;
                setDeadline(Clock::now() + server_.cfg.header_timeout);
            }
            if (reading_) return;
            return startRead();
        }
        if (ec == beast::http::error::header_limit) return sendError(431);
        if (ec) return sendError(400);
        if (parser_->is_header_done()) return onHeadComplete();
    }
}

void Connection::onHeadComplete() {
    auto& p = *parser_;
    auto& h = exchange_->head_;
    phase_ = Phase::Request;
    ++seq_;
    exchange_->seq_ = seq_;
    exchange_->started_at_ = Clock::now();
    resp_ = Resp::None;
    framing_ = Framing::None;
    head_only_ = false;
    close_after_ = false;
    status_ = 0;
    bytes_in_ = 0;
    bytes_out_ = 0;
    body_waiting_ = false;
    body_waited_ = {};
    body_limit_.reset();
    too_large_ = false;
    continue_sent_ = false;
    log_app_.clear();
    log_pid_ = 0;
    server_.active.fetch_add(1, std::memory_order_relaxed);
    deadline_ = Clock::time_point::max();  // the handler owns the timing now
    idle_ = false;

    if (auto cl = p.content_length()) h.content_length = *cl;
    h.chunked = p.chunked();
    h.keep_alive = p.keep_alive();
    h.remote = remote_;
    h.from_admin_socket = admin_;
    if (auto* rid = h.find("x-request-id"); rid && isValidRequestId(*rid))
        h.request_id = *rid;
    else
        assignNewRequestId(h.request_id);
    body_done_ = p.is_done();
    if (p.te_seen && !p.chunked()) return sendError(501);   // no transfer-coding but chunked
    if (!normalizeTargetAndHost(h)) return sendError(400);  // no Host (HTTP/1.1), bad absolute-form

    auto ex = exchange_;
    try {
        server_.handler(std::move(ex));
    } catch (...) {
        if (resp_ == Resp::None)
            sendError(500);
        else
            closeNow(false);
        return;
    }
    // Waiting for the handler: keep a read pending so a vanished client is noticed.
    if (phase_ == Phase::Request && resp_ != Resp::Ended && resp_ != Resp::Done && body_done_) startRead();
}

// ---- request body ----------------------------------------------------------------------

void Connection::setBodyLimit(Exchange& ex, std::uint64_t limit) {
    if (!current(ex)) return;
    body_limit_ = limit;
    auto& h = ex.head_;
    if (!body_done_ && ((h.content_length && *h.content_length > limit) || bytes_in_ > limit)) tooLarge();
}

void Connection::readBody(Exchange& ex, BodyCallback cb) {
    if (!current(ex) || body_cb_) {
        auto status = too_large_ && ex.seq_ == seq_ ? BodyStatus::TooLarge : BodyStatus::Error;
        if (cb) asio::post(loop_.ioc, [cb = std::move(cb), status] { cb(BodyEvent{status, {}}); });
        return;
    }
    if (too_large_) return cb(BodyEvent{BodyStatus::TooLarge, {}});
    body_cb_ = std::move(cb);
    if (!body_done_ && ex.head_.expect_continue && !continue_sent_ && resp_ == Resp::None) {
        continue_sent_ = true;
        appendStaging("HTTP/1.1 100 Continue\r\n\r\n");
        flush();
    }
    continueBody();
}

void Connection::continueBody() {
    if (in_body_loop_) return;  // the running loop below picks the new callback up
    in_body_loop_ = true;
    while (body_cb_ && phase_ == Phase::Request) {
        if (body_done_) {
            auto cb = std::move(body_cb_);
            body_cb_ = nullptr;
            cb(BodyEvent{BodyStatus::End, {}});
            continue;
        }
        if (begin_ == end_) {
            if (!reading_) {
                begin_ = end_ = 0;
                startRead();
            }
            waitForBody();
            break;
        }
        auto& p = *parser_;
        p.body_ptr = nullptr;
        p.body_len = 0;
        error_code ec;
        std::size_t used = p.put(asio::const_buffer(buf_.get() + begin_, end_ - begin_), ec);
        begin_ += used;
        if (ec && ec != beast::http::error::need_more) {
            malformedBody();
            break;
        }
        if (p.is_done()) body_done_ = true;
        if (p.body_len > 0) {
            bytes_in_ += p.body_len;
            if (body_limit_ && bytes_in_ > *body_limit_) {
                tooLarge();
                break;
            }
            auto cb = std::move(body_cb_);
            body_cb_ = nullptr;
            cb(BodyEvent{BodyStatus::Data, std::as_bytes(std::span<const char>(p.body_ptr, p.body_len))});
            continue;
        }
        if (body_done_) continue;
        if (used == 0) {  // need more bytes for the next chunk header / body
            if (end_ - begin_ == cap_) {
                // A chunk-size line, extension or trailer longer than the whole buffer can
                // never complete: refuse it instead of waiting forever.
                malformedBody();
                break;
            }
            if (!reading_) startRead();
            waitForBody();
            break;
        }
    }
    in_body_loop_ = false;
    if (phase_ == Phase::Request && body_done_ && !body_cb_ && resp_ != Resp::Ended && resp_ != Resp::Done)
        startRead();  // watch for the client leaving
}

void Connection::malformedBody() {
    auto cb = std::move(body_cb_);
    body_cb_ = nullptr;
    if (cb) cb(BodyEvent{BodyStatus::Error, {}});
    if (phase_ != Phase::Request) return;
    if (resp_ == Resp::None)
        sendError(400);
    else
        closeNow(false);
}

void Connection::tooLarge() {
    too_large_ = true;
    if (body_cb_) {
        auto cb = std::move(body_cb_);
        body_cb_ = nullptr;
        cb(BodyEvent{BodyStatus::TooLarge, {}});
    }
    if (phase_ != Phase::Request) return;
    if (resp_ == Resp::None)
        sendError(413);
    else
        closeNow(false);
}

// ---- body timing ---------------------------------------------------------------------

// The wait may last body_timeout, and in total (over all waits of this body) body_timeout
// plus 1 s per body_min_rate bytes received: a client trickling bytes runs out of time.
void Connection::waitForBody() {
    if (phase_ != Phase::Request || body_done_ || !body_cb_) return;
    const auto now = Clock::now();
    if (!body_waiting_) {
        body_waiting_ = true;
        body_wait_started_ = now;
    }
    Clock::duration limit = server_.cfg.body_timeout;
    if (const auto rate = server_.cfg.body_min_rate) {
        const auto earned = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(static_cast<double>(bytes_in_) / static_cast<double>(rate)));
        const auto left = server_.cfg.body_timeout + earned - body_waited_;
        limit = std::min(limit, std::max(left, Clock::duration::zero()));
    }
    setDeadline(body_wait_started_ + limit);
}

void Connection::bodyArrived() {
    body_waiting_ = false;
    body_waited_ += Clock::now() - body_wait_started_;
    deadline_ = Clock::time_point::max();
}

void Connection::bodyTimedOut() {
    body_waiting_ = false;
    auto cb = std::move(body_cb_);
    body_cb_ = nullptr;
    if (resp_ == Resp::None)
        sendError(408);
    else
        closeNow(false);
    if (cb) cb(BodyEvent{BodyStatus::Error, {}});
}

// ---- timers --------------------------------------------------------------------------

void Connection::setDeadline(Clock::time_point tp) {
    deadline_ = tp;
    if (tp >= armed_at_) return;  // the armed wait fires earlier and re-arms
    armed_at_ = tp;
    timer_.expires_at(tp);
    std::uint64_t gen = ++timer_gen_;
    timer_.async_wait([self = shared_from_this(), gen](const error_code&) { self->onTimer(gen); });
}

void Connection::onTimer(std::uint64_t gen) {
    if (gen != timer_gen_ || phase_ == Phase::Closed) return;
    armed_at_ = Clock::time_point::max();
    auto now = Clock::now();
    if (now < deadline_) {
        if (deadline_ != Clock::time_point::max()) setDeadline(deadline_);
        return;
    }
    deadline_ = Clock::time_point::max();
    switch (phase_) {
    case Phase::Head:
        if (idle_ || (begin_ == end_ && !parser_)) return closeNow(false);
        return sendError(408);
    case Phase::Lingering: return closeNow(false);
    case Phase::Request:
        if (body_waiting_ && body_cb_ && !body_done_) return bodyTimedOut();
        return;
    default: return;
    }
}

void Connection::logAccess(unsigned status) {
    if (!server_.log.enabled() || !exchange_) return;
    auto& h = exchange_->head_;
    AccessRecord r;
    r.request_id = h.request_id;
    // The client per RUNTIME_TRUSTED_PROXIES; the per-IP connection cap keeps using the peer.
    std::string client =
        is_unix_ ? std::string("unix") : clientAddress(remote_, h.headers, server_.cfg.trusted_proxies);
    r.remote = client.empty() ? std::string_view(remote_) : std::string_view(client);
    r.method = h.method;
    r.path = h.path();
    r.app = log_app_;
    r.status = status;
    r.bytes_in = bytes_in_;
    r.bytes_out = bytes_out_;
    r.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - exchange_->started_at_).count();
    r.worker_pid = log_pid_;
    server_.log.write(r);
}

// ---- misc exchange operations ---------------------------------------------------------

void Connection::onClientGone(Exchange& ex, std::function<void()> cb) {
    if (!current(ex)) return;
    gone_cb_ = std::move(cb);
}

void Connection::abort(Exchange& ex) {
    if (!current(ex)) return;
    closeNow(false);
}

void Connection::setLogFields(Exchange& ex, std::string app, int pid) {
    if (ex.seq_ != seq_) return;
    log_app_ = std::move(app);
    log_pid_ = pid;
}

}  // namespace buntime::http::detail
