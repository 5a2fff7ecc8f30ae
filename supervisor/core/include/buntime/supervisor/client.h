// SPDX-License-Identifier: MIT
// The client end of one request as the dispatcher sees it: an HTTP exchange or an
// in-memory (direct mode) request. Every call and callback happens on the core loop.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "buntime/http/exchange.h"

namespace buntime::supervisor {

class Client {
public:
    virtual ~Client() = default;
    virtual const http::RequestHead& head() const = 0;
    virtual void setBodyLimit(std::uint64_t limit) = 0;
    // Exactly one event per call; data is valid only during the callback.
    virtual void readBody(http::BodyCallback callback) = 0;
    virtual void respond(unsigned status, http::Headers headers, std::string body) = 0;
    virtual void startResponse(unsigned status, http::Headers headers, std::optional<std::uint64_t> length) = 0;
    virtual void writeBody(std::string data, http::WriteCallback done) = 0;
    virtual void endResponse() = 0;
    virtual void onClientGone(std::function<void()> callback) = 0;
    virtual void abort() = 0;
    virtual void setLogFields(std::string app, int worker_pid) = 0;
};

}  // namespace buntime::supervisor
