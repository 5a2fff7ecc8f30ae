// SPDX-License-Identifier: MIT
// The Client of a request that came over HTTP: adapts http::Exchange to the dispatcher,
// bringing every callback onto the core loop (the exchange may live on another loop).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "buntime/http/exchange.h"
#include "buntime/supervisor/client.h"

namespace buntime::supervisor {

class HttpClient final : public Client {
public:
    HttpClient(std::shared_ptr<http::Exchange> exchange, boost::asio::io_context& core)
        : exchange_(std::move(exchange)), core_(core) {}

    const http::RequestHead& head() const override { return exchange_->head(); }
    void setBodyLimit(std::uint64_t limit) override { exchange_->setBodyLimit(limit); }
    void readBody(http::BodyCallback callback) override;
    void respond(unsigned status, http::Headers headers, std::string body) override {
        exchange_->respond(status, std::move(headers), std::move(body));
    }
    void startResponse(unsigned status, http::Headers headers, std::optional<std::uint64_t> length) override {
        exchange_->startResponse(status, std::move(headers), length);
    }
    void writeBody(std::string data, http::WriteCallback done) override;
    void endResponse() override { exchange_->endResponse(); }
    void onClientGone(std::function<void()> callback) override;
    void abort() override { exchange_->abort(); }
    void setLogFields(std::string app, int worker_pid) override { exchange_->setLogFields(std::move(app), worker_pid); }

private:
    std::shared_ptr<http::Exchange> exchange_;
    boost::asio::io_context& core_;
};

}  // namespace buntime::supervisor
