// SPDX-License-Identifier: MIT
// The command kind's app: a small blocking HTTP/1.1 client from the ring to the app's socket.
#include "command_app.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "buntime/base/ascii.h"
#include "buntime/worker/server.h"
#include "log.h"

namespace buntime::worker {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMaxHeadBytes = 64 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr auto kTerminateWait = 30s;
constexpr std::size_t kInlineBody = 16 * 1024;  // smaller bodies go out in the head's write

unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }

// Connection-level headers that are not forwarded (RFC 9110 7.6.1), plus the framing the
// proxy owns (content-length, transfer-encoding) and expect (the body is already here).
bool hopByHop(std::string_view name) {
    for (std::string_view h : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
                               "upgrade", "content-length", "expect"})
        if (base::iequals(name, h)) return true;
    return false;
}

enum class Io { Ok, Closed, Cancelled, Failed };

// One exchange with the app over a connection: the request out, the response in.
class Upstream {
public:
    Upstream(int fd, Exchange* ex) : fd_(fd), ex_(ex) {}

    bool sendAll(std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                error_ = std::strerror(errno);
                return false;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // Reads more bytes into buf_; wakes up to notice a cancelled request.
    Io readMore() {
        if (pos_ > 0 && pos_ == buf_.size()) {
            buf_.clear();
            pos_ = 0;
        } else if (pos_ > kReadChunk) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
        bool flushed = !flush_when_idle_;
        for (;;) {
            if (ex_->cancelled.load(std::memory_order_relaxed)) return Io::Cancelled;
            // Read first, poll only when nothing is there: one syscall when the bytes are waiting.
            // Not buf_.resize(): that would zero 64 KiB a read. Not a thread_local array either:
            // 64 KiB of static TLS is zeroed for every thread of every worker, command or not.
            thread_local std::unique_ptr<char[]> chunk;
            if (!chunk) chunk = std::make_unique_for_overwrite<char[]>(kReadChunk);
            const ssize_t n = ::recv(fd_, chunk.get(), kReadChunk, MSG_DONTWAIT);
            if (n > 0) {
                buf_.append(chunk.get(), static_cast<std::size_t>(n));
                received_ += static_cast<std::size_t>(n);
                return Io::Ok;
            }
            if (n == 0) return Io::Closed;
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                error_ = std::strerror(errno);
                return errno == ECONNRESET ? Io::Closed : Io::Failed;
            }
            if (!flushed) {  // nothing more yet: what is gathered goes to the client now
                flushed = true;
                ex_->server->flush(ex_);
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 500) < 0 && errno != EINTR) {
                error_ = std::strerror(errno);
                return Io::Failed;
            }
        }
    }

    std::string_view pending() const { return std::string_view(buf_).substr(pos_); }
    void consume(std::size_t n) { pos_ += n; }
    std::size_t received() const { return received_; }
    void flushWhenIdle() { flush_when_idle_ = true; }
    const std::string& error() const { return error_; }

private:
    int fd_;
    Exchange* ex_;
    std::string buf_;
    std::size_t pos_ = 0;
    std::size_t received_ = 0;
    bool flush_when_idle_ = false;  // the response head is set: stream what arrived before waiting
    std::string error_;
};

struct Head {
    int status = 0;
    std::vector<std::pair<std::string_view, std::string_view>> headers;
    std::int64_t content_length = -1;
    bool chunked = false;
    bool keep_alive = true;
};

// Parses a response head (without the final CRLF CRLF); empty on success, else why not.
std::string parseHead(std::string_view text, Head& h) {
    std::size_t eol = text.find("\r\n");
    std::string_view line = text.substr(0, eol);
    if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ') return "bad status line";
    const bool http10 = line[7] == '0';
    if (!http10 && line[7] != '1') return "bad HTTP version";
    auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, h.status);
    if (ec != std::errc() || p != line.data() + 12 || h.status < 100 || h.status > 999) return "bad status code";
    h.keep_alive = !http10;
    std::string_view rest = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 2);
    while (!rest.empty()) {
        eol = rest.find("\r\n");
        line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
        if (line.empty()) continue;
        if (line.front() == ' ' || line.front() == '\t') return "folded header line";
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return "header line without a name";
        std::string_view name = line.substr(0, colon), value = base::trim(line.substr(colon + 1));
        if (base::iequals(name, "content-length")) {
            std::int64_t n = -1;
            auto r = std::from_chars(value.data(), value.data() + value.size(), n);
            if (r.ec != std::errc() || r.ptr != value.data() + value.size() || n < 0) return "bad content-length";
            if (h.content_length >= 0 && h.content_length != n) return "conflicting content-length";
            h.content_length = n;
        } else if (base::iequals(name, "transfer-encoding")) {
            std::string lower = base::toLower(value);
            if (lower.ends_with("chunked"))
                h.chunked = true;
            else
                h.keep_alive = false;  // read until close
        } else if (base::iequals(name, "connection")) {
            std::string lower = base::toLower(value);
            if (lower.find("close") != std::string::npos) h.keep_alive = false;
            if (lower.find("keep-alive") != std::string::npos && http10) h.keep_alive = true;
        }
        h.headers.emplace_back(name, value);
    }
    if (h.chunked) h.content_length = -1;
    return {};
}

// What became of one attempt.
enum class Outcome { Done, Reusable, Retry, Failed };

struct Attempt {
    Outcome outcome = Outcome::Failed;
    std::string reason;
};

void badGateway(Exchange* ex, const std::string& reason) {
    Server& s = *ex->server;
    BUNTIME_LOG(Warn, "request %llu: bad gateway: %s", ull(ex->id), reason.c_str());
    if (ex->ended) return;
    if (ex->head_sent || ex->cancelled.load(std::memory_order_relaxed)) {
        s.fail(ex, reason);
        return;
    }
    // Nothing has left yet: the partial response is replaced by a 502.
    ex->response_head.reset();
    ex->header_bytes = 0;
    ex->declared_length = -1;
    ex->written = 0;
    ex->buffer.clear();
    ex->failure.clear();
    ex->status = 200;
    s.setStatus(ex, 502);
    s.addHeader(ex, "content-type", "text/plain; charset=utf-8");
    const std::string text = "502 bad gateway: " + printableLine(reason) + "\n";
    s.write(ex, text.data(), text.size());
    s.end(ex);
}

// Streams the body into the ring. Returns an empty string, or why the body broke.
std::string relayBody(Upstream& up, Exchange* ex, const Head& h, bool& reusable) {
    Server& s = *ex->server;
    auto out = [&](std::string_view data) -> std::string {
        if (data.empty()) return {};
        const int rc = s.write(ex, data.data(), data.size());
        if (rc == BUNTIME_OK) return {};
        reusable = false;
        return rc == BUNTIME_E_CANCELLED ? "cancelled" : "the ring refused the body (" + std::to_string(rc) + ")";
    };
    auto more = [&]() -> std::string {
        switch (up.readMore()) {
        case Io::Ok: return {};
        case Io::Cancelled: reusable = false; return "cancelled";
        case Io::Closed: reusable = false; return "the app closed the connection mid-response";
        case Io::Failed: reusable = false; return "reading from the app failed: " + up.error();
        }
        return "unreachable";
    };
    if (h.content_length >= 0) {
        std::int64_t left = h.content_length;
        while (left > 0) {
            if (up.pending().empty())
                if (auto e = more(); !e.empty()) return e;
            auto piece = up.pending().substr(0, static_cast<std::size_t>(std::min<std::int64_t>(left, INT32_MAX)));
            up.consume(piece.size());
            left -= static_cast<std::int64_t>(piece.size());
            if (auto e = out(piece); !e.empty()) return e;
        }
        return {};
    }
    if (!h.chunked) {  // until the app closes the connection
        reusable = false;
        for (;;) {
            if (auto e = out(up.pending()); !e.empty()) return e;
            up.consume(up.pending().size());
            Io r = up.readMore();
            if (r == Io::Closed) return {};
            if (r == Io::Cancelled) return "cancelled";
            if (r == Io::Failed) return "reading from the app failed: " + up.error();
        }
    }
    for (;;) {  // chunked
        std::size_t eol;
        while ((eol = up.pending().find("\r\n")) == std::string_view::npos) {
            if (up.pending().size() > 4096) return "malformed chunk size line";
            if (auto e = more(); !e.empty()) return e;
        }
        std::string_view line = up.pending().substr(0, eol);
        line = line.substr(0, line.find(';'));
        line = base::trim(line);
        std::uint64_t size = 0;
        auto r = std::from_chars(line.data(), line.data() + line.size(), size, 16);
        if (line.empty() || r.ec != std::errc() || r.ptr != line.data() + line.size()) return "malformed chunk size";
        up.consume(eol + 2);
        if (size == 0) {  // trailers (dropped) up to an empty line
            for (;;) {
                while ((eol = up.pending().find("\r\n")) == std::string_view::npos) {
                    if (up.pending().size() > kMaxHeadBytes) return "trailers too large";
                    if (auto e = more(); !e.empty()) return e;
                }
                up.consume(eol + 2);
                if (eol == 0) return {};
            }
        }
        while (size > 0) {
            if (up.pending().empty())
                if (auto e = more(); !e.empty()) return e;
            auto piece = up.pending().substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(size, INT32_MAX)));
            up.consume(piece.size());
            size -= piece.size();
            if (auto e = out(piece); !e.empty()) return e;
        }
        while (up.pending().size() < 2)
            if (auto e = more(); !e.empty()) return e;
        if (!up.pending().starts_with("\r\n")) return "malformed chunk end";
        up.consume(2);
    }
}

Attempt exchange(int fd, Exchange* ex, bool reused) {
    const auto& rh = ex->head;
    Upstream up(fd, ex);
    std::string out;
    out.reserve(256 + ex->head_bytes + std::min(ex->body.size(), kInlineBody));
    out.append(rh.method).append(" ").append(rh.path.empty() ? "/" : rh.path);
    if (!rh.query.empty()) out.append("?").append(rh.query);
    out.append(" HTTP/1.1\r\n");
    bool has_host = false;
    for (const auto& [name, value] : rh.headers) {
        if (hopByHop(name)) continue;
        if (base::iequals(name, "host")) has_host = true;
        out.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_host) out.append("host: localhost\r\n");
    if (!ex->body.empty() || rh.method == "POST" || rh.method == "PUT" || rh.method == "PATCH")
        out.append("content-length: ").append(std::to_string(ex->body.size())).append("\r\n");
    out.append("\r\n");
    const bool inline_body = ex->body.size() <= kInlineBody;
    if (inline_body) out.append(ex->body);
    if (!up.sendAll(out) || (!inline_body && !up.sendAll(ex->body))) {
        // A kept-alive connection the app has closed meanwhile: once more on a new one.
        if (reused && up.received() == 0) return {Outcome::Retry, {}};
        return {Outcome::Failed, "sending the request to the app failed: " + up.error()};
    }

    Head h;
    for (;;) {
        std::size_t end;
        while ((end = up.pending().find("\r\n\r\n")) == std::string_view::npos) {
            if (up.pending().size() > kMaxHeadBytes) return {Outcome::Failed, "the app's response head is too large"};
            switch (up.readMore()) {
            case Io::Ok: break;
            case Io::Cancelled: return {Outcome::Done, {}};
            case Io::Closed:
                if (reused && up.received() == 0) return {Outcome::Retry, {}};
                return {Outcome::Failed, up.received() == 0 ? "the app closed the connection without a response"
                                                            : "the app closed the connection mid-response"};
            case Io::Failed: return {Outcome::Failed, "reading from the app failed: " + up.error()};
            }
        }
        h = Head{};
        if (auto err = parseHead(up.pending().substr(0, end), h); !err.empty())
            return {Outcome::Failed, "the app answered malformed HTTP (" + err + ")"};
        if (h.status >= 200 || h.status == 101) {
            if (h.status == 101) return {Outcome::Failed, "the app switched protocols (101), which is not supported"};
            // The head's views point into the buffer, which stays put until consume + readMore.
            break;
        }
        up.consume(end + 4);  // an interim 1xx response
    }
    const std::size_t head_end = up.pending().find("\r\n\r\n") + 4;

    Server& s = *ex->server;
    s.setStatus(ex, h.status);
    for (const auto& [name, value] : h.headers) {
        if (hopByHop(name)) continue;
        if (int rc = s.addHeader(ex, name, value); rc != BUNTIME_OK) {
            if (rc == BUNTIME_E_INVALID) return {Outcome::Failed, "the app sent an invalid header"};
            return {Outcome::Failed, ex->failure.empty() ? "the app sent too many headers" : ex->failure};
        }
    }
    const bool no_body = rh.method == "HEAD" || h.status == 204 || h.status == 304;
    if (h.content_length >= 0) s.setLength(ex, no_body && rh.method != "HEAD" ? 0 : h.content_length);
    up.consume(head_end);
    if (no_body) {
        s.end(ex);
        return {h.keep_alive ? Outcome::Reusable : Outcome::Done, {}};
    }
    bool reusable = h.keep_alive;
    up.flushWhenIdle();
    if (auto err = relayBody(up, ex, h, reusable); !err.empty()) {
        if (err == "cancelled") {
            s.end(ex);
            return {Outcome::Done, {}};
        }
        return {Outcome::Failed, err};
    }
    s.end(ex);
    if (!up.pending().empty()) reusable = false;  // the app sent more than it framed
    return {reusable ? Outcome::Reusable : Outcome::Done, {}};
}

const buntime_app_v1 kTable = {
    BUNTIME_APP_ABI_VERSION,
    BUNTIME_STYLE_BLOCKING,
    [](const buntime_host_v1*, const buntime_app_info*, void**, char*, size_t) { return 0; },
    nullptr,  // set below: handle is a private static member
    nullptr,
    nullptr,
};

}  // namespace

CommandApp::CommandApp(std::unique_ptr<CommandProcess> process, std::size_t max_idle)
    : process_(std::move(process)), max_idle_(max_idle) {}

const buntime_app_v1* CommandApp::appTable() noexcept {
    static const buntime_app_v1 table = [] {
        buntime_app_v1 t = kTable;
        t.handle = &CommandApp::handle;
        t.on_terminate = &CommandApp::onTerminate;
        return t;
    }();
    return &table;
}

base::UniqueFd CommandApp::take(bool& reused) {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            base::UniqueFd fd = std::move(idle_.back());
            idle_.pop_back();
            reused = true;
            return fd;
        }
    }
    reused = false;
    return process_->connect();
}

void CommandApp::give(base::UniqueFd fd) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(fd));
}

int CommandApp::handle(void* ctx, buntime_request* req, buntime_response*) {
    auto* self = static_cast<CommandApp*>(ctx);
    auto* ex = reinterpret_cast<Exchange*>(req);
    {
        std::lock_guard lock(self->mutex_);
        ++self->active_;
    }
    struct Leave {
        CommandApp* self;
        ~Leave() {
            std::lock_guard lock(self->mutex_);
            if (--self->active_ == 0) self->drained_.notify_all();
        }
    } leave{self};
    for (int attempt = 0; attempt < 3; ++attempt) {
        bool reused = false;
        base::UniqueFd fd = self->take(reused);
        if (!fd) {
            badGateway(ex, "cannot connect to the app at " + self->process_->endpoint().describe() + ": " +
                               std::strerror(errno));
            return 0;
        }
        Attempt a = exchange(fd.get(), ex, reused);
        switch (a.outcome) {
        case Outcome::Retry: continue;
        case Outcome::Reusable: self->give(std::move(fd)); return 0;
        case Outcome::Done: return 0;
        case Outcome::Failed: badGateway(ex, a.reason); return 0;
        }
    }
    badGateway(ex, "the app closed every kept-alive connection");
    return 0;
}

void CommandApp::onTerminate(void* ctx) {
    auto* self = static_cast<CommandApp*>(ctx);
    // The server waits for requests in flight after this hook; the app must serve them, so
    // it is stopped once they are done (or after kTerminateWait).
    {
        std::unique_lock lock(self->mutex_);
        self->drained_.wait_for(lock, kTerminateWait, [self] { return self->active_ == 0; });
        self->idle_.clear();
    }
    self->process_->stop(3s);
}

}  // namespace buntime::worker
