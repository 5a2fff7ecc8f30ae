// SPDX-License-Identifier: MIT
// Scriptable HTTP/1.1 test server: keep-alive, Content-Length request bodies, chunked replies.
#include "test_server.h"

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cctype>

namespace buntime::harness::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket s, const TestHandler& h, std::atomic<std::uint64_t>& served)
        : sock_(std::move(s)), handler_(h), served_(served) {}

    void start() { readHead(); }

private:
    void readHead() {
        auto self = shared_from_this();
        asio::async_read_until(sock_, buf_, "\r\n\r\n", [self](boost::system::error_code ec, std::size_t n) {
            if (ec) return;
            self->onHead(n);
        });
    }

    void onHead(std::size_t n) {
        std::string head(asio::buffers_begin(buf_.data()),
                         asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n));
        buf_.consume(n);
        TestRequest req;
        std::size_t pos = head.find("\r\n");
        const std::string line = head.substr(0, pos);
        const auto sp1 = line.find(' '), sp2 = line.rfind(' ');
        req.method = line.substr(0, sp1);
        req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        while (pos != std::string::npos && pos + 2 < head.size()) {
            const auto next = head.find("\r\n", pos + 2);
            const std::string h = head.substr(pos + 2, next - pos - 2);
            pos = next;
            const auto colon = h.find(':');
            if (colon == std::string::npos) continue;
            std::string v = h.substr(colon + 1);
            v.erase(0, v.find_first_not_of(' '));
            req.headers[lower(h.substr(0, colon))] = v;
        }
        const std::size_t len = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
        auto self = shared_from_this();
        const std::size_t have = buf_.size();
        if (have >= len) {
            onBody(std::move(req), len);
            return;
        }
        asio::async_read(sock_, buf_, asio::transfer_exactly(len - have),
                         [self, req = std::move(req), len](boost::system::error_code ec, std::size_t) mutable {
                             if (ec) return;
                             self->onBody(std::move(req), len);
                         });
    }

    void onBody(TestRequest req, std::size_t len) {
        req.body.assign(asio::buffers_begin(buf_.data()),
                        asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(len));
        buf_.consume(len);
        auto self = shared_from_this();
        handler_(req, [self](TestResponse r) { self->reply(std::move(r)); });
    }

    void reply(TestResponse r) {
        if (r.hang) {  // never answer; a pending read keeps the session (and socket) alive
            auto self = shared_from_this();
            sock_.async_read_some(asio::buffer(sink_), [self](boost::system::error_code, std::size_t) {});
            return;
        }
        ++served_;
        auto out = std::make_shared<std::string>(TestServer::serialize(r));
        auto self = shared_from_this();
        asio::async_write(sock_, asio::buffer(*out),
                          [self, out, close = r.close](boost::system::error_code ec, std::size_t) {
                              if (ec) return;
                              if (close) {
                                  boost::system::error_code ignored;
                                  self->sock_.shutdown(tcp::socket::shutdown_both, ignored);
                                  self->sock_.close(ignored);
                                  return;
                              }
                              self->readHead();
                          });
    }

    tcp::socket sock_;
    asio::streambuf buf_;
    char sink_[64];
    const TestHandler& handler_;
    std::atomic<std::uint64_t>& served_;
};

}  // namespace

struct TestServer::Impl {
    Impl(asio::io_context& io, TestHandler h) : acceptor(io), handler(std::move(h)) {}
    tcp::acceptor acceptor;
    TestHandler handler;
};

std::string TestServer::serialize(const TestResponse& r) {
    std::string s = "HTTP/1.1 " + std::to_string(r.status) + " X\r\nContent-Type: " + r.content_type + "\r\n";
    if (r.close) s += "Connection: close\r\n";
    if (r.chunked) {
        s += "Transfer-Encoding: chunked\r\n\r\n";
        for (std::size_t i = 0; i < r.body.size(); i += 7) {
            const std::string part = r.body.substr(i, 7);
            char hex[16];
            std::snprintf(hex, sizeof hex, "%zx", part.size());
            s += std::string(hex) + ";ext=1\r\n" + part + "\r\n";
        }
        s += "0\r\nX-Trailer: t\r\n\r\n";
    } else {
        s += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
    }
    return s;
}

TestServer::TestServer(TestHandler handler, std::uint16_t port)
    : impl_(std::make_unique<Impl>(io_, std::move(handler))) {
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    port_ = impl_->acceptor.local_endpoint().port();
    doAccept();
    thread_ = std::thread([this] { io_.run(); });
}

void TestServer::doAccept() {
    impl_->acceptor.async_accept([this](boost::system::error_code ec, tcp::socket s) {
        if (ec) return;
        ++accepted_;
        std::make_shared<Session>(std::move(s), impl_->handler, served_)->start();
        doAccept();
    });
}

void TestServer::stop() {
    if (!thread_.joinable()) return;
    io_.stop();
    thread_.join();
}

TestServer::~TestServer() { stop(); }

}  // namespace buntime::harness::test
