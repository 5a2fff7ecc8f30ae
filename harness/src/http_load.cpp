// SPDX-License-Identifier: MIT
// Hand-written HTTP/1.1 over Asio sockets: request bytes built once, replies parsed in place.
#include "buntime/harness/http_load.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace buntime::harness {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string buildRequestBytes(const Scenario& s, const std::string& hostHeader) {
    std::string r;
    r.reserve(256 + s.body.size());
    r += s.method + " " + s.target + " HTTP/1.1\r\nHost: " + hostHeader +
         "\r\nUser-Agent: buntime-perf\r\nAccept: */*\r\n";
    if (!s.content_type.empty() || !s.body.empty() || s.method == "POST" || s.method == "PUT") {
        if (!s.content_type.empty()) r += "Content-Type: " + s.content_type + "\r\n";
        r += "Content-Length: " + std::to_string(s.body.size()) + "\r\n";
    }
    r += "\r\n";
    r += s.body;
    return r;
}

// ---- ResponseParser ----

namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

bool icontains(std::string_view hay, std::string_view needle) {
    if (needle.size() > hay.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
        if (iequals(hay.substr(i, needle.size()), needle)) return true;
    return false;
}

std::string_view trimView(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
    return v;
}

const char* findCrlf(const char* begin, const char* end) {
    for (const char* p = begin; p + 1 < end; ++p) {
        p = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(end - p)));
        if (p == nullptr || p + 1 >= end) return nullptr;
        if (p[1] == '\n') return p;
    }
    return nullptr;
}

}  // namespace

void ResponseParser::reset() { *this = ResponseParser{}; }

ResponseParser::Status ResponseParser::parseHeaders(const char* data, std::size_t len, std::size_t& consumed) {
    const std::string_view all(data, len);
    const auto end = all.find("\r\n\r\n");
    if (end == std::string_view::npos) return len > kMaxHeaderBytes ? Status::Error : Status::NeedMore;
    const std::string_view head = all.substr(0, end);
    consumed = end + 4;

    auto lineEnd = head.find("\r\n");
    const std::string_view statusLine = head.substr(0, lineEnd);
    if (statusLine.size() < 12 || statusLine.substr(0, 5) != "HTTP/") return Status::Error;
    const bool http10 = statusLine.substr(5, 3) == "1.0";
    int code = 0;
    const auto [p, ec] = std::from_chars(statusLine.data() + 9, statusLine.data() + 12, code);
    if (ec != std::errc{} || p != statusLine.data() + 12 || code < 100 || code > 999) return Status::Error;

    bool chunked = false, haveLength = false, close = http10, keepAliveHeader = false;
    std::uint64_t length = 0;
    while (lineEnd != std::string_view::npos) {
        const auto next = head.find("\r\n", lineEnd + 2);
        const std::string_view line =
            head.substr(lineEnd + 2, next == std::string_view::npos ? std::string_view::npos : next - lineEnd - 2);
        lineEnd = next;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trimView(line.substr(0, colon));
        const std::string_view value = trimView(line.substr(colon + 1));
        if (iequals(name, "content-length")) {
            const auto [q, e] = std::from_chars(value.data(), value.data() + value.size(), length);
            if (e != std::errc{} || q != value.data() + value.size()) return Status::Error;
            haveLength = true;
        } else if (iequals(name, "transfer-encoding")) {
            chunked = icontains(value, "chunked");
        } else if (iequals(name, "connection")) {
            if (icontains(value, "close")) close = true;
            if (icontains(value, "keep-alive")) keepAliveHeader = true;
        }
    }
    if (code < 200) {  // interim (100 Continue ...): the real response follows
        return Status::NeedMore;
    }
    status_ = code;
    keepAlive_ = !close || (http10 && keepAliveHeader && !icontains(statusLine, "close"));
    if (http10 && !keepAliveHeader) keepAlive_ = false;
    if (code == 204 || code == 304) {
        state_ = State::Done;
    } else if (chunked) {
        state_ = State::ChunkSize;
    } else if (haveLength) {
        remaining_ = length;
        state_ = length == 0 ? State::Done : State::Body;
    } else {
        state_ = State::UntilClose;
        keepAlive_ = false;
    }
    return Status::NeedMore;
}

ResponseParser::Status ResponseParser::feed(const char* data, std::size_t len, std::size_t& consumed) {
    consumed = 0;
    while (state_ != State::Done) {
        const char* cur = data + consumed;
        const std::size_t avail = len - consumed;
        switch (state_) {
        case State::Headers: {
            std::size_t used = 0;
            const Status s = parseHeaders(cur, avail, used);
            if (s == Status::Error) return s;
            if (used == 0) return Status::NeedMore;
            consumed += used;
            break;
        }
        case State::Body:
        case State::ChunkData: {
            if (avail == 0) return Status::NeedMore;
            const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, avail));
            consumed += take;
            remaining_ -= take;
            bodyBytes_ += take;
            if (remaining_ == 0) state_ = state_ == State::Body ? State::Done : State::ChunkCrlf;
            break;
        }
        case State::ChunkCrlf: {
            if (avail < 2) return Status::NeedMore;
            if (cur[0] != '\r' || cur[1] != '\n') return Status::Error;
            consumed += 2;
            state_ = State::ChunkSize;
            break;
        }
        case State::ChunkSize: {
            const char* eol = findCrlf(cur, cur + avail);
            if (eol == nullptr) return avail > 1024 ? Status::Error : Status::NeedMore;
            const char* sizeEnd = cur;
            while (sizeEnd < eol && *sizeEnd != ';' && *sizeEnd != ' ') ++sizeEnd;
            std::uint64_t size = 0;
            const auto [p, ec] = std::from_chars(cur, sizeEnd, size, 16);
            if (ec != std::errc{} || p != sizeEnd || sizeEnd == cur) return Status::Error;
            consumed += static_cast<std::size_t>(eol - cur) + 2;
            remaining_ = size;
            state_ = size == 0 ? State::Trailers : State::ChunkData;
            break;
        }
        case State::Trailers: {
            const char* eol = findCrlf(cur, cur + avail);
            if (eol == nullptr) return avail > kMaxHeaderBytes ? Status::Error : Status::NeedMore;
            consumed += static_cast<std::size_t>(eol - cur) + 2;
            if (eol == cur) state_ = State::Done;
            break;
        }
        case State::UntilClose:
            bodyBytes_ += avail;
            consumed += avail;
            return Status::NeedMore;
        case State::Done: break;
        }
    }
    return Status::Done;
}

ResponseParser::Status ResponseParser::finishOnEof() {
    if (state_ == State::UntilClose) {
        state_ = State::Done;
        return Status::Done;
    }
    return state_ == State::Done ? Status::Done : Status::Error;
}

// ---- Load driver ----

namespace {

enum class Phase { Warmup, Measure, Done };

class LoadRun {
public:
    LoadRun(const HttpEndpoint& ep, const Scenario& s, const LoadParams& p)
        : params_(p), sweep_(io_), phaseTimer_(io_) {
        result_.scenario = s.name;
        result_.method = s.method;
        result_.target = s.target;
        result_.concurrency = p.concurrency;
        request_ = buildRequestBytes(s, ep.host + ":" + std::to_string(ep.port));
        tcp::resolver resolver(io_);
        boost::system::error_code ec;
        const auto results = resolver.resolve(ep.host, std::to_string(ep.port), ec);
        for (const auto& r : results) {
            endpoint_ = r.endpoint();
            resolved_ = true;
            if (endpoint_.address().is_v4()) break;
        }
        timeout_ = std::chrono::milliseconds(p.timeout_ms);
    }

    ScenarioResult run() {
        const auto t0 = Clock::now();
        warmEnd_ = t0 + std::chrono::milliseconds(params_.warmup_ms);
        end_ = warmEnd_ + std::chrono::milliseconds(params_.duration_ms);
        if (params_.warmup_ms == 0) {
            beginMeasure();
        } else {
            phaseTimer_.expires_at(warmEnd_);
            phaseTimer_.async_wait([this](boost::system::error_code ec) {
                if (!ec) beginMeasure();
            });
        }
        for (unsigned i = 0; i < params_.concurrency; ++i) {
            conns_.push_back(std::make_unique<Conn>(io_));
            connect(*conns_.back());
        }
        scheduleSweep();
        io_.run();
        return std::move(result_);
    }

private:
    struct Conn {
        explicit Conn(asio::io_context& io) : sock(io), retry(io) { buf.resize(16 * 1024); }
        tcp::socket sock;
        asio::steady_timer retry;
        std::vector<char> buf;
        std::size_t have = 0;
        ResponseParser parser;
        Clock::time_point start{};
        std::uint64_t gen = 0;     // bumped whenever the socket is abandoned
        std::uint64_t served = 0;  // replies on the current connection
        bool in_flight = false;
        bool measured = false;  // request started in the measured phase
        bool retried = false;   // already retried after a stale keep-alive close
    };

    void beginMeasure() {
        if (phase_ != Phase::Warmup) return;
        phase_ = Phase::Measure;
        measureStart_ = Clock::now();
        if (params_.onMeasuredStart) params_.onMeasuredStart();
        phaseTimer_.expires_at(end_);
        phaseTimer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) finish();
        });
    }

    void finish() {
        if (phase_ == Phase::Done) return;
        phase_ = Phase::Done;
        result_.duration_sec = std::chrono::duration<double>(Clock::now() - measureStart_).count();
        if (params_.onMeasuredEnd) params_.onMeasuredEnd();
        sweep_.cancel();
        for (auto& c : conns_) abandon(*c);
    }

    void abandon(Conn& c) {
        ++c.gen;
        c.in_flight = false;
        boost::system::error_code ignored;
        c.sock.close(ignored);
        c.retry.cancel();
    }

    bool stopping() const { return phase_ == Phase::Done || Clock::now() >= end_; }

    void connect(Conn& c) {
        if (stopping()) return;
        if (!resolved_) {
            c.measured = phase_ == Phase::Measure;
            countFailure(c, false, true);
            retryLater(c);
            return;
        }
        abandon(c);
        c.have = 0;
        c.served = 0;
        c.start = Clock::now();
        c.in_flight = true;  // the connect counts against the request timeout
        c.measured = phase_ == Phase::Measure;
        const auto gen = c.gen;
        c.sock.async_connect(endpoint_, [this, &c, gen](boost::system::error_code ec) {
            if (gen != c.gen) return;
            if (ec) {
                countFailure(c, false, true);
                abandon(c);
                retryLater(c);
                return;
            }
            boost::system::error_code ignored;
            c.sock.set_option(tcp::no_delay(true), ignored);
            c.sock.non_blocking(true, ignored);
            ++result_.connectionsOpened;
            send(c);
        });
    }

    void retryLater(Conn& c) {
        if (stopping()) return;
        c.retry.expires_after(std::chrono::milliseconds(10));
        c.retry.async_wait([this, &c](boost::system::error_code ec) {
            if (!ec) connect(c);
        });
    }

    void send(Conn& c) {
        if (stopping()) {
            abandon(c);
            return;
        }
        c.parser.reset();
        c.start = Clock::now();
        c.in_flight = true;
        c.measured = phase_ == Phase::Measure;
        // The socket is non-blocking: a small request goes out in one send() without a trip
        // through the event loop; only a partial write falls back to async_write.
        boost::system::error_code ec;
        const std::size_t n = c.sock.write_some(asio::buffer(request_), ec);
        if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
            onBrokenConnection(c);
            return;
        }
        if (n == request_.size()) {
            waitReadable(c);
            return;
        }
        const auto gen = c.gen;
        asio::async_write(c.sock, asio::buffer(request_.data() + n, request_.size() - n),
                          [this, &c, gen](boost::system::error_code wec, std::size_t) {
                              if (gen != c.gen) return;
                              if (wec) {
                                  onBrokenConnection(c);
                                  return;
                              }
                              waitReadable(c);
                          });
    }

    // async_wait + one non-blocking read: no speculative read before the reply can exist.
    void waitReadable(Conn& c) {
        const auto gen = c.gen;
        c.sock.async_wait(tcp::socket::wait_read, [this, &c, gen](boost::system::error_code ec) {
            if (gen != c.gen) return;
            if (ec) {
                onBrokenConnection(c);
                return;
            }
            if (c.have == c.buf.size()) c.buf.resize(c.buf.size() * 2);
            boost::system::error_code rec;
            const std::size_t n = c.sock.read_some(asio::buffer(c.buf.data() + c.have, c.buf.size() - c.have), rec);
            if (rec == asio::error::would_block || rec == asio::error::try_again) {
                waitReadable(c);
                return;
            }
            onRead(c, rec, n);
        });
    }

    void onRead(Conn& c, boost::system::error_code ec, std::size_t n) {
        if (ec) {
            if (ec == asio::error::eof && c.parser.finishOnEof() == ResponseParser::Status::Done) {
                complete(c, false);
                return;
            }
            onBrokenConnection(c);
            return;
        }
        c.have += n;
        std::size_t consumed = 0;
        const auto st = c.parser.feed(c.buf.data(), c.have, consumed);
        if (consumed > 0) {
            std::memmove(c.buf.data(), c.buf.data() + consumed, c.have - consumed);
            c.have -= consumed;
        }
        if (st == ResponseParser::Status::Error) {
            countFailure(c, false, true);
            abandon(c);
            connect(c);
            return;
        }
        if (st == ResponseParser::Status::Done) {
            complete(c, c.parser.keepAlive());
            return;
        }
        waitReadable(c);
    }

    // The peer closed or reset the connection before a full reply.
    void onBrokenConnection(Conn& c) {
        // A keep-alive connection the server closed while idle: retry once, not an error.
        if (c.served > 0 && !c.parser.headersStarted() && c.have == 0 && !c.retried) {
            c.retried = true;
            abandon(c);
            connect(c);
            return;
        }
        countFailure(c, false, true);
        abandon(c);
        connect(c);
    }

    void countFailure(Conn& c, bool timeout, bool connection) {
        c.retried = false;
        if (!c.measured || phase_ != Phase::Measure) return;
        ++result_.requests;
        ++result_.errors;
        if (timeout)
            ++result_.timeouts;
        else if (connection)
            ++result_.connection_errors;
    }

    void complete(Conn& c, bool keepAlive) {
        const auto now = Clock::now();
        c.in_flight = false;
        c.retried = false;
        ++c.served;
        if (c.measured && phase_ == Phase::Measure && now <= end_) {
            const int status = c.parser.status();
            ++result_.requests;
            ++result_.status_counts[status];
            if (status >= 400) {
                ++result_.errors;
                ++result_.http_errors;
            }
            result_.latency.record(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.start).count()));
        }
        if (keepAlive && c.have == 0) {
            send(c);
        } else {
            abandon(c);
            connect(c);
        }
    }

    void scheduleSweep() {
        const auto step =
            std::clamp<std::chrono::milliseconds>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout_) / 20,
                                                  std::chrono::milliseconds(1), std::chrono::milliseconds(100));
        sweep_.expires_after(step);
        sweep_.async_wait([this](boost::system::error_code ec) {
            if (ec || phase_ == Phase::Done) return;
            const auto now = Clock::now();
            for (auto& cp : conns_) {
                Conn& c = *cp;
                if (c.in_flight && now - c.start > timeout_) {
                    countFailure(c, true, false);
                    abandon(c);
                    connect(c);
                }
            }
            scheduleSweep();
        });
    }

    LoadParams params_;
    asio::io_context io_{1};
    asio::steady_timer sweep_;
    asio::steady_timer phaseTimer_;
    tcp::endpoint endpoint_;
    bool resolved_ = false;
    std::string request_;
    std::chrono::nanoseconds timeout_{};
    Clock::time_point warmEnd_{}, end_{}, measureStart_{};
    Phase phase_ = Phase::Warmup;
    std::vector<std::unique_ptr<Conn>> conns_;
    ScenarioResult result_;
};

}  // namespace

ScenarioResult runHttpLoad(const HttpEndpoint& endpoint, const Scenario& scenario, const LoadParams& params) {
    LoadRun run(endpoint, scenario, params);
    return run.run();
}

}  // namespace buntime::harness
