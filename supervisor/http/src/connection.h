// SPDX-License-Identifier: MIT
// Internal: server state shared by loops, and one HTTP/1.x connection.
#pragma once

#include "access_log.h"
#include "buntime/http/exchange.h"
#include "buntime/http/server.h"

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace buntime::http::detail {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;
using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;
using Clock = std::chrono::steady_clock;

class Connection;

// One event loop. Everything but `ioc` is touched only on its thread.
struct Loop {
    asio::io_context ioc{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    Connection* first = nullptr;  // intrusive list of open connections
};

struct Listener {
    Acceptor acceptor;
    bool admin = false;
    bool is_unix = false;
    asio::steady_timer retry;  // backs off after EMFILE-like accept errors
    Listener(asio::io_context& ioc) : acceptor(ioc), retry(ioc) {}
};

struct ServerState {
    ServerConfig cfg;
    Handler handler;
    AccessLog log;
    std::vector<std::unique_ptr<Loop>> loops;
    std::vector<std::unique_ptr<Listener>> listeners;  // loop 0
    std::vector<std::string> unlink_on_exit;
    std::vector<std::thread> threads;
    std::atomic<std::size_t> connections{0};
    std::atomic<std::size_t> active{0};
    std::atomic<bool> draining{false};
    std::atomic<bool> stopped{false};
    // Open TCP connections per client address (RUNTIME_MAX_CONNECTIONS_PER_IP).
    std::mutex per_ip_mutex;
    std::unordered_map<std::string, std::size_t> per_ip;
    std::size_t next_loop = 0;
    std::uint16_t port = 0;
    bool started = false;
};

// A request parser writing straight into the exchange's RequestHead (no beast::fields).
class RequestParser final : public boost::beast::http::basic_parser<true> {
public:
    explicit RequestParser(Connection& c) : c_(c) {}
    bool te_seen = false;
    const char* body_ptr = nullptr;
    std::size_t body_len = 0;

private:
    using string_view = boost::beast::string_view;
    using error_code = boost::beast::error_code;
    void on_request_impl(boost::beast::http::verb, string_view method, string_view target, int version,
                         error_code&) override;
    void on_response_impl(int, string_view, int, error_code& ec) override;
    void on_field_impl(boost::beast::http::field f, string_view name, string_view value, error_code&) override;
    void on_header_impl(error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
    std::size_t on_body_impl(string_view body, error_code&) override;
    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override;
    void on_finish_impl(error_code&) override {}

    Connection& c_;
};

// One accepted socket, owned by shared_ptrs held by pending handlers and exchanges.
// All members are used on the loop's thread only.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(ServerState& server, Loop& loop, Socket socket, bool admin, bool is_unix);
    ~Connection();

    void start();
    void startRejected();  // over the connection cap: 503 and close
    // The client address this connection is counted under in ServerState::per_ip.
    void countUnderIp(std::string ip) { ip_ = std::move(ip); }
    const std::string& ip() const noexcept { return ip_; }
    // No byte of a request received (a fresh or keep-alive connection): it may be closed to
    // make room for a new one; idleSince() orders them (oldest first).
    bool evictable() const noexcept { return phase_ == Phase::Head && begin_ == end_ && !parser_; }
    Clock::time_point idleSince() const noexcept { return idle_since_; }
    void closeIfIdle();
    void closeNow(bool client_gone = true);
    bool onLoopThread() const noexcept { return loop_.ioc.get_executor().running_in_this_thread(); }
    asio::io_context::executor_type executor() noexcept { return loop_.ioc.get_executor(); }

    // Exchange operations (on the loop thread; `ex` must be current or the call is ignored).
    void setBodyLimit(Exchange& ex, std::uint64_t limit);
    void readBody(Exchange& ex, BodyCallback cb);
    void respond(Exchange& ex, unsigned status, Headers& headers, std::string body);
    void startResponse(Exchange& ex, unsigned status, Headers& headers, std::optional<std::uint64_t> length);
    void writeBody(Exchange& ex, std::span<const std::byte> data, std::string* owned, WriteCallback done);
    void endResponse(Exchange& ex);
    void onClientGone(Exchange& ex, std::function<void()> cb);
    void abort(Exchange& ex);
    void setLogFields(Exchange& ex, std::string app, int pid);

    Connection* prev = nullptr;
    Connection* next = nullptr;

private:
    friend class RequestParser;
    enum class Phase { Head, Request, Lingering, Closed };
    enum class Resp { None, Started, Ended, Done };
    enum class Framing { Length, Chunked, Close, None };
    struct Seg {
        const char* ptr;  // nullptr: staging range [off, off+len); else external bytes
        std::size_t off;
        std::size_t len;
    };

    bool current(const Exchange& ex) const noexcept {
        return phase_ == Phase::Request && ex.seq_ == seq_ && resp_ != Resp::Done;
    }
    void startRead();
    void onRead(const boost::system::error_code& ec, std::size_t n);
    void parseHead();
    void beginRequest();
    void onHeadComplete();
    void continueBody();
    void malformedBody();  // 400 + close (or close if the response started)
    void tooLarge();
    void sendError(unsigned status);
    void writeHead(unsigned status, const Headers& headers, Framing framing, std::uint64_t length);
    void appendStaging(std::string_view s);
    void appendExternal(const char* p, std::size_t n);
    void flush();
    void onWrite(const boost::system::error_code& ec, std::size_t n);
    void onResponseFlushed();
    void lingerClose();
    void setDeadline(Clock::time_point tp);
    void waitForBody();  // the handler waits for body bytes the client has not sent yet
    void bodyArrived();
    void bodyTimedOut();
    void releaseCounts();  // leaves server_.connections and per_ip
    void onTimer(std::uint64_t gen);
    void logAccess(unsigned status);
    void postDone(WriteCallback cb, bool ok);
    void unlink();

    ServerState& server_;
    Loop& loop_;
    Socket socket_;
    asio::steady_timer timer_;
    bool admin_;
    bool is_unix_;
    bool counted_ = false;  // in server_.connections
    std::string remote_;
    std::string ip_;  // counted in server_.per_ip (empty: not counted)
    Clock::time_point idle_since_ = Clock::now();

    // Read side.
    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0, begin_ = 0, end_ = 0;
    std::size_t head_bytes_ = 0;  // header bytes consumed so far for the current head
    bool reading_ = false;
    bool idle_ = true;  // Head phase with no byte of the next request yet
    Phase phase_ = Phase::Head;
    std::optional<RequestParser> parser_;
    std::shared_ptr<Exchange> exchange_;  // current (or cached for reuse)
    std::uint64_t seq_ = 0;
    bool body_done_ = false;
    bool too_large_ = false;
    bool continue_sent_ = false;
    bool in_body_loop_ = false;
    std::optional<std::uint64_t> body_limit_;
    std::uint64_t bytes_in_ = 0;
    // Body timing (ServerConfig::body_timeout / body_min_rate): time spent waiting for the
    // client's body bytes, and when the current wait began.
    bool body_waiting_ = false;
    Clock::time_point body_wait_started_{};
    Clock::duration body_waited_{};
    BodyCallback body_cb_;
    std::function<void()> gone_cb_;
    std::uint64_t requests_ = 0;

    // Write side.
    Resp resp_ = Resp::None;
    Framing framing_ = Framing::None;
    bool head_only_ = false;  // HEAD / 204 / 304: no body bytes
    bool close_after_ = false;
    bool writing_ = false;
    bool in_write_cbs_ = false;
    unsigned status_ = 0;
    std::uint64_t resp_remaining_ = 0;
    std::uint64_t bytes_out_ = 0;
    std::string staging_, wstaging_;
    std::vector<Seg> segs_, wsegs_;
    std::vector<WriteCallback> cbs_, wcbs_;
    std::vector<std::string> owned_, wowned_;  // copied bodies kept until written
    std::vector<asio::const_buffer> bufs_;
    std::string log_app_;
    int log_pid_ = 0;

    // Timer.
    Clock::time_point deadline_ = Clock::time_point::max();
    Clock::time_point armed_at_ = Clock::time_point::max();
    std::uint64_t timer_gen_ = 0;
};

}  // namespace buntime::http::detail
