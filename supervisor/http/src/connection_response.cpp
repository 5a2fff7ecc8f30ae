// SPDX-License-Identifier: MIT
// One HTTP/1.x connection, its response side: head framing, bodies (content-length,
// chunked or close-delimited), writes and flushing, and closing after an error.
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>

#include <charconv>
#include <span>

#include "buntime/base/ascii.h"
#include "connection.h"

namespace buntime::http::detail {

namespace beast = boost::beast;
using base::iequals;
using boost::system::error_code;

namespace {

bool droppedResponseHeader(std::string_view name) noexcept {
    switch (name.size()) {
    case 6: return iequals(name, "server");
    case 7: return iequals(name, "upgrade");
    case 10: return iequals(name, "connection") || iequals(name, "keep-alive");
    case 12: return iequals(name, "x-request-id");
    case 14: return iequals(name, "content-length");
    case 17: return iequals(name, "transfer-encoding");
    default: return false;
    }
}

bool hasCrLf(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

std::string_view reason(unsigned status) noexcept {
    if (status < 100 || status > 999) return "Unknown";
    auto r = beast::http::obsolete_reason(static_cast<beast::http::status>(status));
    if (r.empty() || r.front() == '<') return "Unknown";
    return {r.data(), r.size()};
}

void appendUint(std::string& out, std::uint64_t v) {
    char tmp[24];
    auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
    out.append(tmp, static_cast<std::size_t>(res.ptr - tmp));
}

}  // namespace

// ---- responses -----------------------------------------------------------------------

void Connection::appendStaging(std::string_view s) {
    if (!segs_.empty() && segs_.back().ptr == nullptr && segs_.back().off + segs_.back().len == staging_.size()) {
        segs_.back().len += s.size();
    } else {
        segs_.push_back(Seg{nullptr, staging_.size(), s.size()});
    }
    staging_.append(s);
}

void Connection::appendExternal(const char* p, std::size_t n) {
    if (n == 0) return;
    segs_.push_back(Seg{p, 0, n});
}

void Connection::writeHead(unsigned status, const Headers& headers, Framing framing, std::uint64_t length) {
    auto& h = exchange_->head_;
    status_ = status;
    if (!h.keep_alive || server_.draining.load(std::memory_order_relaxed) || !body_done_ || framing == Framing::Close ||
        (server_.cfg.max_requests_per_connection && requests_ + 1 >= server_.cfg.max_requests_per_connection))
        close_after_ = true;
    std::size_t start = staging_.size();
    staging_ += h.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    appendUint(staging_, status);
    staging_ += ' ';
    staging_ += reason(status);
    staging_ += "\r\nserver: buntime\r\nx-request-id: ";
    staging_ += h.request_id;
    staging_ += "\r\n";
    for (const auto& [k, v] : headers) {
        if (k.empty() || droppedResponseHeader(k) || hasCrLf(k) || hasCrLf(v)) continue;
        staging_ += k;
        staging_ += ": ";
        staging_ += v;
        staging_ += "\r\n";
    }
    if (framing == Framing::Length) {
        staging_ += "content-length: ";
        appendUint(staging_, length);
        staging_ += "\r\n";
    } else if (framing == Framing::Chunked) {
        staging_ += "transfer-encoding: chunked\r\n";
    }
    if (close_after_)
        staging_ += "connection: close\r\n";
    else if (h.version == 10)
        staging_ += "connection: keep-alive\r\n";
    staging_ += "\r\n";
    std::size_t len = staging_.size() - start;
    if (!segs_.empty() && segs_.back().ptr == nullptr && segs_.back().off + segs_.back().len == start)
        segs_.back().len += len;
    else
        segs_.push_back(Seg{nullptr, start, len});
}

static bool noBodyStatus(unsigned status) { return status < 200 || status == 204 || status == 304; }

void Connection::respond(Exchange& ex, unsigned status, Headers& headers, std::string body) {
    if (!current(ex) || resp_ != Resp::None) return;
    bool nobody = noBodyStatus(status);
    head_only_ = nobody || ex.head_.isHead();
    writeHead(status, headers, nobody ? Framing::None : Framing::Length, body.size());
    if (!head_only_ && !body.empty()) {
        if (body.size() <= 4096) {
            appendStaging(body);
        } else {
            owned_.push_back(std::move(body));
            appendExternal(owned_.back().data(), owned_.back().size());
        }
    }
    resp_ = Resp::Ended;
    flush();
}

void Connection::sendError(unsigned status) {
    // Called in Head or Request phase, before any response byte was produced.
    if (!exchange_) exchange_ = std::make_shared<Exchange>(Exchange::Key{}, shared_from_this());
    if (phase_ == Phase::Head) {
        // Count it as an exchange so logging and flush logic stay uniform.
        phase_ = Phase::Request;
        ++seq_;
        exchange_->seq_ = seq_;
        exchange_->started_at_ = Clock::now();
        if (exchange_->head_.request_id.empty()) exchange_->head_.request_id = newRequestId();
        exchange_->head_.remote = remote_;
        bytes_in_ = bytes_out_ = 0;
        status_ = 0;
        server_.active.fetch_add(1, std::memory_order_relaxed);
        resp_ = Resp::None;
    }
    deadline_ = Clock::time_point::max();
    body_done_ = false;  // forces connection: close
    head_only_ = false;
    std::string_view r = reason(status);
    Headers none;
    writeHead(status, none, Framing::Length, r.size());
    appendStaging(r);
    resp_ = Resp::Ended;
    close_after_ = true;
    flush();
}

void Connection::startResponse(Exchange& ex, unsigned status, Headers& headers, std::optional<std::uint64_t> length) {
    if (!current(ex) || resp_ != Resp::None) return;
    bool nobody = noBodyStatus(status);
    head_only_ = nobody || ex.head_.isHead();
    Framing f;
    if (nobody)
        f = Framing::None;
    else if (length)
        f = Framing::Length;
    else if (ex.head_.isHead())
        f = Framing::None;
    else if (ex.head_.version >= 11)
        f = Framing::Chunked;
    else
        f = Framing::Close;
    framing_ = f;
    resp_remaining_ = length.value_or(0);
    writeHead(status, headers, f, resp_remaining_);
    resp_ = Resp::Started;
    flush();
}

void Connection::postDone(WriteCallback cb, bool ok) {
    if (cb) asio::post(loop_.ioc, [cb = std::move(cb), ok] { cb(ok); });
}

void Connection::writeBody(Exchange& ex, std::span<const std::byte> data, std::string* owned, WriteCallback done) {
    if (!current(ex) || resp_ != Resp::Started) return postDone(std::move(done), false);
    const char* p = reinterpret_cast<const char*>(data.data());
    std::size_t n = data.size();
    if (framing_ == Framing::Length) {
        if (n > resp_remaining_) n = static_cast<std::size_t>(resp_remaining_);
        resp_remaining_ -= n;
    }
    if (head_only_ || n == 0) return postDone(std::move(done), true);
    if (framing_ == Framing::Chunked) {
        char hex[20];
        auto res = std::to_chars(hex, hex + sizeof hex, n, 16);
        appendStaging(std::string_view(hex, static_cast<std::size_t>(res.ptr - hex)));
        appendStaging("\r\n");
    }
    if (owned) {
        if (n <= 4096) {
            appendStaging(std::string_view(p, n));
        } else {
            owned_.push_back(std::move(*owned));
            appendExternal(owned_.back().data(), n);
        }
    } else {
        appendExternal(p, n);
    }
    if (framing_ == Framing::Chunked) appendStaging("\r\n");
    cbs_.push_back(std::move(done));
    flush();
}

void Connection::endResponse(Exchange& ex) {
    if (!current(ex) || resp_ != Resp::Started) return;
    if (framing_ == Framing::Chunked && !head_only_) appendStaging("0\r\n\r\n");
    if (framing_ == Framing::Length && resp_remaining_ > 0 && !head_only_) close_after_ = true;  // short body
    resp_ = Resp::Ended;
    flush();
}

void Connection::flush() {
    if (writing_ || in_write_cbs_ || phase_ == Phase::Closed) return;
    if (segs_.empty()) {
        if (resp_ == Resp::Ended && phase_ == Phase::Request) onResponseFlushed();
        return;
    }
    staging_.swap(wstaging_);
    segs_.swap(wsegs_);
    cbs_.swap(wcbs_);
    owned_.swap(wowned_);
    bufs_.clear();
    for (const auto& s : wsegs_) bufs_.emplace_back(s.ptr ? s.ptr : wstaging_.data() + s.off, s.len);
    writing_ = true;
    asio::async_write(socket_, std::span<const asio::const_buffer>(bufs_),
                      [self = shared_from_this()](const error_code& ec, std::size_t n) { self->onWrite(ec, n); });
}

void Connection::onWrite(const error_code& ec, std::size_t n) {
    writing_ = false;
    bytes_out_ += n;
    wstaging_.clear();
    wsegs_.clear();
    wowned_.clear();
    in_write_cbs_ = true;
    for (auto& cb : wcbs_)
        if (cb) cb(!ec && phase_ != Phase::Closed);
    wcbs_.clear();
    in_write_cbs_ = false;
    if (phase_ == Phase::Closed) return;
    if (ec) return closeNow(true);
    flush();
}

void Connection::onResponseFlushed() {
    resp_ = Resp::Done;
    ++requests_;
    server_.active.fetch_sub(1, std::memory_order_relaxed);
    logAccess(status_);
    gone_cb_ = nullptr;
    if (body_cb_) {  // a readBody left pending while the response completed
        auto cb = std::move(body_cb_);
        body_cb_ = nullptr;
        cb(BodyEvent{BodyStatus::Error, {}});
    }
    if (close_after_ || !body_done_ || server_.draining.load(std::memory_order_relaxed)) return lingerClose();
    phase_ = Phase::Head;
    parser_.reset();
    if (exchange_.use_count() != 1) exchange_.reset();  // still held by the handler: do not reuse
    if (begin_ == end_) {
        idle_ = true;
        idle_since_ = Clock::now();
        setDeadline(Clock::now() + server_.cfg.idle_timeout);
    }
    parseHead();
}

void Connection::lingerClose() {
    // Send FIN, then discard input for a while so unread request bytes do not turn the
    // close into a RST that could destroy the response on the client side.
    if (phase_ == Phase::Closed) return;
    phase_ = Phase::Lingering;
    error_code ec;
    socket_.shutdown(asio::socket_base::shutdown_send, ec);
    if (ec) return closeNow(false);
    releaseCounts();  // a lingering socket no longer counts as a connection
    exchange_.reset();
    setDeadline(Clock::now() + server_.cfg.linger_timeout);
    if (!reading_) {
        begin_ = end_ = 0;
        startRead();
    }
}

}  // namespace buntime::http::detail
