// SPDX-License-Identifier: MIT
// The command kind's app: the event-driven relay from the ring to the app's HTTP server.
#include "command_app.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "buntime/base/ascii.h"
#include "buntime/base/clock.h"
#include "buntime/worker/server.h"
#include "http_response_parser.h"
#include "log.h"

namespace buntime::worker {

struct CommandApp::Conn {
    base::UniqueFd fd;
    bool registered = false;   // added to the epoll set
    bool connecting = false;   // a TCP connect in progress
    bool reused = false;       // came from the idle pool
    bool relay_owned = false;  // guarded by mutex_: armed, so the relay thread owns it
    Exchange* ex = nullptr;
    int attempt = 0;
    std::string out;  // the request head (and a small body) not yet written
    std::size_t out_pos = 0;
    std::string_view body;  // the rest of a large body (in ex->body), after `out`
    std::string in;         // response bytes not consumed yet
    ResponseParser parser;
    Conn* prev = nullptr;  // in busy_, guarded by mutex_
    Conn* next = nullptr;
    bool busy = false;
};

void CommandApp::BusyList::add(Conn* c) {
    if (c->busy) return;
    c->busy = true;
    c->prev = nullptr;
    c->next = head;
    if (head) head->prev = c;
    head = c;
}

void CommandApp::BusyList::remove(Conn* c) {
    if (!c->busy) return;
    c->busy = false;
    if (c->prev) c->prev->next = c->next;
    if (c->next) c->next->prev = c->prev;
    if (head == c) head = c->next;
    c->prev = c->next = nullptr;
}

namespace {

using namespace std::chrono_literals;

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kInlineBody = 16 * 1024;  // smaller bodies go out in the head's write
constexpr int kMaxAttempts = 3;
constexpr auto kTerminateWait = 30s;
constexpr int kSweepMs = 500;  // how often cancelled requests' connections are closed
constexpr int kBackoffMs = 2;  // retry when the app's listen backlog was full
constexpr std::size_t kMaxConnections = 1024;

unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }

// Connection-level headers that are not forwarded (RFC 9110 7.6.1), plus the framing the
// proxy owns (content-length, transfer-encoding) and expect (the body is already here).
bool hopByHop(std::string_view name) {
    for (std::string_view h : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
                               "upgrade", "content-length", "expect"})
        if (base::iequals(name, h)) return true;
    return false;
}

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

void buildRequest(const Exchange* ex, std::string& out, std::string_view& rest) {
    const auto& rh = ex->head;
    out.clear();
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
    rest = {};
    if (ex->body.size() <= kInlineBody)
        out.append(ex->body);
    else
        rest = ex->body;
}

enum class Connect { Ok, InProgress, Again, Failed };

// A non-blocking connection to the app's endpoint. Again: a unix socket's backlog is full.
Connect connectTo(const CommandEndpoint& ep, base::UniqueFd& fd) {
    const int family = ep.socket_path.empty() ? AF_INET : AF_UNIX;
    fd.reset(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return Connect::Failed;
    int rc;
    if (family == AF_UNIX) {
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, ep.socket_path.c_str(), std::min(ep.socket_path.size() + 1, sizeof a.sun_path - 1));
        rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
        int one = 1;
        ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(ep.port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    if (rc == 0) return Connect::Ok;
    if (errno == EINPROGRESS) return Connect::InProgress;
    if (errno == EAGAIN) return Connect::Again;
    return Connect::Failed;
}

// BUNTIME_COMMAND_CONNECTIONS (from the manifest's env): at most this many connections to the
// app (requests beyond wait for one); the concurrency by default.
std::size_t connectionLimit(std::size_t concurrency) {
    std::size_t limit = std::clamp<std::size_t>(concurrency, 1, kMaxConnections);
    if (const char* text = std::getenv("BUNTIME_COMMAND_CONNECTIONS"); text && *text) {
        char* end = nullptr;
        const long long n = std::strtoll(text, &end, 10);
        if (end && *end == '\0' && n > 0)
            limit = std::min(limit, static_cast<std::size_t>(n));
        else
            BUNTIME_LOG(Warn, "BUNTIME_COMMAND_CONNECTIONS='%s' is not a positive number; using %zu", text, limit);
    }
    return limit;
}

const buntime_app_v1 kTable = {
    BUNTIME_APP_ABI_VERSION,
    BUNTIME_STYLE_ASYNC,
    [](const buntime_host_v1*, const buntime_app_info*, void**, char*, size_t) { return 0; },
    nullptr,  // set below: handle is a private static member
    nullptr,
    nullptr,
};

}  // namespace

CommandApp::CommandApp(std::unique_ptr<CommandProcess> process, std::size_t max_connections)
    : process_(std::move(process)),
      max_connections_(connectionLimit(max_connections)),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      read_buf_(kReadChunk) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the wake-up
    if (!epoll_ || !wake_fd_ || ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) != 0)
        BUNTIME_LOG(Error, "command relay: epoll/eventfd failed: %s", std::strerror(errno));
}

CommandApp::~CommandApp() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake();
    if (relay_.joinable()) relay_.join();
    for (Conn* c : idle_) delete c;
    while (Conn* c = busy_.head) {
        busy_.remove(c);
        delete c;
    }
}

const buntime_app_v1* CommandApp::appTable() noexcept {
    static const buntime_app_v1 table = [] {
        buntime_app_v1 t = kTable;
        t.handle = &CommandApp::handle;
        t.on_terminate = &CommandApp::onTerminate;
        return t;
    }();
    return &table;
}

void CommandApp::wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
}

int CommandApp::handle(void* ctx, buntime_request* req, buntime_response*) {
    auto* self = static_cast<CommandApp*>(ctx);
    auto* ex = reinterpret_cast<Exchange*>(req);
    {
        std::lock_guard lock(self->mutex_);
        ++self->active_;
    }
    // The relay thread starts with the first request (not before: a zygote may fork the host).
    if (!self->relay_.joinable()) self->relay_ = std::thread([self] { self->relayLoop(); });
    self->begin(ex, 0);
    return 0;
}

void CommandApp::requestDone() {
    std::lock_guard lock(mutex_);
    if (--active_ == 0) drained_.notify_all();
}

void CommandApp::begin(Exchange* ex, int attempt) {
    if (attempt >= kMaxAttempts) {
        badGateway(ex, "the app closed every kept-alive connection");
        requestDone();
        return;
    }
    Conn* c = nullptr;
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            c = idle_.back();
            idle_.pop_back();
            c->reused = true;
        } else if (open_ < max_connections_ && base::monotonicNs() >= backoff_until_) {
            c = new Conn();
            ++open_;
        } else {
            pending_.emplace_back(ex, attempt);
            return;
        }
        c->relay_owned = false;
        c->ex = ex;
        c->attempt = attempt;
        busy_.add(c);
    }
    c->in.clear();
    c->out_pos = 0;
    c->parser.start(ex->head.method == "HEAD");
    buildRequest(ex, c->out, c->body);
    if (!c->fd) {
        switch (connectTo(process_->endpoint(), c->fd)) {
        case Connect::Ok: break;
        case Connect::InProgress: c->connecting = true; return arm(c, EPOLLOUT);
        case Connect::Again: {  // the app is slow to accept: retried shortly
            c->ex = nullptr;
            closeConn(c);
            {
                std::lock_guard lock(mutex_);
                pending_.emplace_front(ex, attempt);
                backoff_until_ = base::monotonicNs() + kBackoffMs * 1'000'000ull;
            }
            wake();
            return;
        }
        case Connect::Failed: {
            const std::string why =
                "cannot connect to the app at " + process_->endpoint().describe() + ": " + std::strerror(errno);
            return failConn(c, why, false);
        }
        }
    }
    switch (sendRequest(c)) {
    case Sent::Done: return arm(c, EPOLLIN);
    case Sent::Blocked: return arm(c, EPOLLIN | EPOLLOUT);
    case Sent::Failed: return;  // failConn ran
    }
}

CommandApp::Sent CommandApp::sendRequest(Conn* c) {
    for (;;) {
        std::string_view data = c->out_pos < c->out.size() ? std::string_view(c->out).substr(c->out_pos) : c->body;
        if (data.empty()) return Sent::Done;
        const ssize_t n = ::send(c->fd.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return Sent::Blocked;
            // A kept-alive connection the app has closed meanwhile: once more on a new one.
            failConn(c, std::string("sending the request to the app failed: ") + std::strerror(errno), c->reused);
            return Sent::Failed;
        }
        if (c->out_pos < c->out.size())
            c->out_pos += static_cast<std::size_t>(n);
        else
            c->body.remove_prefix(static_cast<std::size_t>(n));
    }
}

void CommandApp::arm(Conn* c, unsigned events) {
    epoll_event ev{};
    ev.events = events | EPOLLONESHOT;
    ev.data.ptr = c;
    std::lock_guard lock(mutex_);
    c->relay_owned = true;
    const int op = c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    c->registered = true;
    if (::epoll_ctl(epoll_.get(), op, c->fd.get(), &ev) != 0)
        BUNTIME_LOG(Error, "command relay: epoll_ctl failed: %s", std::strerror(errno));
}

void CommandApp::relayLoop() {
    epoll_event events[64];
    std::uint64_t last_sweep = base::monotonicNs();
    for (;;) {
        int timeout = kSweepMs;
        {
            std::lock_guard lock(mutex_);
            if (stop_) return;
            if (!pending_.empty() && backoff_until_ > 0) timeout = kBackoffMs;
        }
        const int n = ::epoll_wait(epoll_.get(), events, 64, timeout);
        if (n < 0 && errno != EINTR) {
            BUNTIME_LOG(Error, "command relay: epoll_wait failed: %s", std::strerror(errno));
            return;
        }
        for (int i = 0; i < n; ++i) {
            if (!events[i].data.ptr) {
                std::uint64_t v;
                [[maybe_unused]] ssize_t r = ::read(wake_fd_.get(), &v, sizeof v);
                continue;
            }
            onEvent(static_cast<Conn*>(events[i].data.ptr), events[i].events);
        }
        startPending();
        if (const std::uint64_t now = base::monotonicNs(); now - last_sweep >= kSweepMs * 1'000'000ull) {
            last_sweep = now;
            sweepCancelled();
        }
    }
}

void CommandApp::startPending() {
    std::deque<std::pair<Exchange*, int>> ready;
    {
        std::lock_guard lock(mutex_);
        if (pending_.empty()) return;
        std::size_t can = idle_.size();
        if (base::monotonicNs() >= backoff_until_) {
            backoff_until_ = 0;
            can += max_connections_ - std::min(open_, max_connections_);
        }
        while (can-- > 0 && !pending_.empty()) {
            ready.push_back(pending_.front());
            pending_.pop_front();
        }
    }
    for (auto [ex, attempt] : ready) begin(ex, attempt);
}

void CommandApp::sweepCancelled() {
    std::vector<Conn*> cancelled;
    {
        std::lock_guard lock(mutex_);
        for (Conn* c = busy_.head; c; c = c->next)
            if (c->relay_owned && c->ex && c->ex->cancelled.load(std::memory_order_relaxed)) cancelled.push_back(c);
    }
    for (Conn* c : cancelled) {
        BUNTIME_LOG(Debug, "request %llu cancelled: closing its connection to the app", ull(c->ex->id));
        c->ex->server->end(c->ex);  // a cancelled response sends nothing
        c->ex = nullptr;
        requestDone();
        closeConn(c);
    }
}

void CommandApp::onEvent(Conn* c, unsigned events) {
    // relay_owned stays set: the sweep runs on this thread, between events.
    if (c->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c->fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0)
            return failConn(
                c, "cannot connect to the app at " + process_->endpoint().describe() + ": " + std::strerror(err),
                false);
        c->connecting = false;
    }
    bool blocked = false;
    if (c->out_pos < c->out.size() || !c->body.empty()) {
        const Sent s = sendRequest(c);
        if (s == Sent::Failed) return;
        blocked = s == Sent::Blocked;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) return onReadable(c);
    arm(c, blocked ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

void CommandApp::onReadable(Conn* c) {
    for (;;) {
        const ssize_t n = ::recv(c->fd.get(), read_buf_.data(), read_buf_.size(), MSG_DONTWAIT);
        if (n > 0) {
            if (!consume(c, std::string_view(read_buf_.data(), static_cast<std::size_t>(n)))) return;
            // A short read drained the socket: wait for more instead of a recv that says EAGAIN.
            if (static_cast<std::size_t>(n) < read_buf_.size()) break;
            continue;
        }
        if (n == 0 || errno == ECONNRESET) {
            Exchange* ex = c->ex;
            if (c->parser.closed() == ResponseParser::Event::Done) {
                ex->server->end(ex);
                return finish(c, false);
            }
            // Nothing of a response came on a kept-alive connection: the app had closed it.
            return failConn(c, c->parser.error(), c->reused && !c->parser.started());
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return failConn(c, std::string("reading from the app failed: ") + std::strerror(errno), false);
    }
    // Nothing more yet: what is gathered goes to the client now.
    if (c->parser.inBody()) c->ex->server->flush(c->ex);
    const bool sending = c->out_pos < c->out.size() || !c->body.empty();
    arm(c, sending ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

bool CommandApp::consume(Conn* c, std::string_view bytes) {
    // Bytes left from the previous read come first.
    std::string_view in = bytes;
    if (!c->in.empty()) {
        c->in.append(bytes);
        in = c->in;
    }
    std::size_t pos = 0;
    Exchange* ex = c->ex;
    for (;;) {
        std::size_t used = 0;
        std::string_view data;
        const auto event = c->parser.next(in.substr(pos), used, data);
        switch (event) {
        case ResponseParser::Event::Head:
            if (!deliverHead(c)) return false;
            pos += used;
            continue;
        case ResponseParser::Event::Data: {
            pos += used;
            const int rc = ex->server->write(ex, data.data(), data.size());
            if (rc == BUNTIME_OK) continue;
            if (rc == BUNTIME_E_CANCELLED) {
                ex->server->end(ex);
                finish(c, false);
                return false;
            }
            failConn(c, ex->failure.empty() ? "the ring refused the body (" + std::to_string(rc) + ")" : ex->failure,
                     false);
            return false;
        }
        case ResponseParser::Event::Done: {
            pos += used;
            const bool reusable = c->parser.reusable() && pos == in.size() && c->body.empty() &&
                                  c->out_pos >= c->out.size();  // no surplus bytes, the request all sent
            ex->server->end(ex);
            finish(c, reusable);
            return false;
        }
        case ResponseParser::Event::Error: failConn(c, "the app answered " + c->parser.error(), false); return false;
        case ResponseParser::Event::NeedMore:
            pos += used;
            if (in.data() == c->in.data()) {
                c->in.erase(0, pos);
            } else {
                c->in.assign(in.substr(pos));
            }
            return true;
        }
    }
}

bool CommandApp::deliverHead(Conn* c) {
    Exchange* ex = c->ex;
    Server& s = *ex->server;
    const auto& h = c->parser.head();
    s.setStatus(ex, h.status);
    for (const auto& [name, value] : h.headers) {
        if (hopByHop(name)) continue;
        if (int rc = s.addHeader(ex, name, value); rc != BUNTIME_OK) {
            failConn(c,
                     rc == BUNTIME_E_INVALID ? "the app sent an invalid header"
                     : ex->failure.empty()   ? "the app sent too many headers"
                                             : ex->failure,
                     false);
            return false;
        }
    }
    const bool head_request = ex->head.method == "HEAD";
    const bool no_body = h.status == 204 || h.status == 304;
    if (h.content_length >= 0) s.setLength(ex, no_body && !head_request ? 0 : h.content_length);
    return true;
}

void CommandApp::failConn(Conn* c, std::string reason, bool retryable) {
    Exchange* ex = c->ex;
    const int attempt = c->attempt;
    c->ex = nullptr;
    closeConn(c);
    if (retryable && !ex->head_sent && ex->written == 0) return begin(ex, attempt + 1);
    badGateway(ex, reason);
    requestDone();
}

void CommandApp::finish(Conn* c, bool reusable) {
    c->ex = nullptr;
    requestDone();
    if (!reusable) return closeConn(c);
    c->in.clear();
    c->out.clear();
    c->body = {};
    {
        std::lock_guard lock(mutex_);
        busy_.remove(c);
        if (!stop_) {
            idle_.push_back(c);
            return;
        }
    }
    closeConn(c);
}

void CommandApp::closeConn(Conn* c) {
    {
        std::lock_guard lock(mutex_);
        busy_.remove(c);
        --open_;
    }
    delete c;  // closing the fd removes it from the epoll set
}

void CommandApp::onTerminate(void* ctx) {
    auto* self = static_cast<CommandApp*>(ctx);
    // The server waits for requests in flight after this hook; the app must serve them, so
    // it is stopped once they are done (or after kTerminateWait).
    {
        std::unique_lock lock(self->mutex_);
        self->drained_.wait_for(lock, kTerminateWait, [self] { return self->active_ == 0; });
        self->stop_ = true;
        for (Conn* c : self->idle_) {
            --self->open_;
            delete c;
        }
        self->idle_.clear();
    }
    self->wake();
    self->process_->stop(3s);
}

}  // namespace buntime::worker
