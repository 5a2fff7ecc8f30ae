// SPDX-License-Identifier: MIT
// Exchange: thread-safe forwarding of handler calls to the connection's loop.
#include "buntime/http/exchange.h"

#include "connection.h"

#include <boost/asio/post.hpp>

namespace buntime::http {

Exchange::Exchange(Key, std::shared_ptr<detail::Connection> connection) : connection_(std::move(connection)) {}

Exchange::~Exchange() = default;

boost::asio::io_context::executor_type Exchange::executor() const noexcept { return connection_->executor(); }

// Runs f(connection) now if on the connection's loop, else posts it there (keeping this
// exchange alive until it ran).
template <class F>
void Exchange::dispatch(F&& f) {
    if (connection_->onLoopThread()) {
        f(*connection_);
    } else {
        auto self = shared_from_this();  // exchanges are always owned by a shared_ptr
        boost::asio::post(connection_->executor(), [self, f = std::forward<F>(f)]() mutable { f(*self->connection_); });
    }
}

void Exchange::setBodyLimit(std::uint64_t limit) {
    dispatch([this, limit](detail::Connection& c) { c.setBodyLimit(*this, limit); });
}

void Exchange::readBody(BodyCallback callback) {
    dispatch([this, cb = std::move(callback)](detail::Connection& c) mutable { c.readBody(*this, std::move(cb)); });
}

void Exchange::respond(unsigned status, Headers headers, std::string body) {
    dispatch([this, status, h = std::move(headers), b = std::move(body)](detail::Connection& c) mutable {
        c.respond(*this, status, h, std::move(b));
    });
}

void Exchange::startResponse(unsigned status, Headers headers, std::optional<std::uint64_t> content_length) {
    dispatch([this, status, h = std::move(headers), content_length](detail::Connection& c) mutable {
        c.startResponse(*this, status, h, content_length);
    });
}

void Exchange::writeBody(std::span<const std::byte> data, WriteCallback done) {
    dispatch([this, data, d = std::move(done)](detail::Connection& c) mutable {
        c.writeBody(*this, data, nullptr, std::move(d));
    });
}

void Exchange::writeBodyCopy(std::string data, WriteCallback done) {
    dispatch([this, s = std::move(data), d = std::move(done)](detail::Connection& c) mutable {
        c.writeBody(*this, std::as_bytes(std::span<const char>(s.data(), s.size())), &s, std::move(d));
    });
}

void Exchange::endResponse() {
    dispatch([this](detail::Connection& c) { c.endResponse(*this); });
}

void Exchange::onClientGone(std::function<void()> callback) {
    dispatch([this, cb = std::move(callback)](detail::Connection& c) mutable { c.onClientGone(*this, std::move(cb)); });
}

void Exchange::abort() {
    dispatch([this](detail::Connection& c) { c.abort(*this); });
}

void Exchange::setLogFields(std::string app, int worker_pid) {
    dispatch([this, a = std::move(app), worker_pid](detail::Connection& c) mutable {
        c.setLogFields(*this, std::move(a), worker_pid);
    });
}

}  // namespace buntime::http
