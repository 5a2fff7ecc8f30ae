// SPDX-License-Identifier: MIT
// A tiny scriptable HTTP/1.1 server on one Asio thread, for the harness client tests.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace buntime::harness::test {

struct TestRequest {
    std::string method, target;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

struct TestResponse {
    int status = 200;
    std::string body;
    std::string content_type = "text/plain";
    bool chunked = false;  // send the body as chunks of at most 7 bytes
    bool close = false;    // "Connection: close" and close after the reply
    bool hang = false;     // never reply (the client must time out)
};

// reply() may be called later (e.g. from a timer on io()); it must run on the server thread.
using TestHandler = std::function<void(const TestRequest&, std::function<void(TestResponse)> reply)>;

// Owns its io thread; the handler runs on it. Thread-safe counters.
class TestServer {
public:
    explicit TestServer(TestHandler handler, std::uint16_t port = 0);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    std::uint16_t port() const { return port_; }
    boost::asio::io_context& io() { return io_; }
    std::uint64_t connectionsAccepted() const { return accepted_.load(); }
    std::uint64_t requestsServed() const { return served_.load(); }
    void stop();

    static std::string serialize(const TestResponse& r);

private:
    void doAccept();
    struct Impl;
    boost::asio::io_context io_{1};
    std::unique_ptr<Impl> impl_;
    std::uint16_t port_ = 0;
    std::atomic<std::uint64_t> accepted_{0}, served_{0};
    std::thread thread_;
};

}  // namespace buntime::harness::test
