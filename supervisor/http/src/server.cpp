// SPDX-License-Identifier: MIT
// Server: listeners (TCP, unix, admin, inherited), accept loop, event-loop threads, drain.
#include "buntime/http/server.h"

#include "connection.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "buntime/base/error.h"
#include "buntime/base/log.h"
#include "buntime/base/unique_fd.h"

namespace buntime::http {

using detail::Connection;
using detail::Listener;
using detail::Loop;
using detail::ServerState;
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

void acceptNext(const std::shared_ptr<ServerState>& st, Listener& l);

// The client's IP address (no port) of a TCP socket; empty for unix sockets or on error.
std::string peerIp(detail::Socket& s) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(s.native_handle(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
    char host[INET6_ADDRSTRLEN] = {0};
    if (ss.ss_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, host, sizeof host);
    else if (ss.ss_family == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, host, sizeof host);
    return host;
}

// Closes the loop's connection that has waited longest without a request (of client `ip`
// when not empty) to make room for a new one. False when none waits.
bool evictOldestIdle(Loop& loop, const std::string& ip) {
    Connection* oldest = nullptr;
    for (auto* c = loop.first; c; c = c->next) {
        if (!c->evictable() || (!ip.empty() && c->ip() != ip)) continue;
        if (!oldest || c->idleSince() < oldest->idleSince()) oldest = c;
    }
    if (!oldest) return false;
    auto keep = oldest->shared_from_this();
    oldest->closeNow(false);
    return true;
}

// Runs a loop until it stops. A handler that throws is logged and the loop goes on
// serving (Asio lets run() be called again after an exception): one bad request never
// ends a loop, and so never leaves the other loops waiting on it.
void runLoop(asio::io_context& ioc) noexcept {
    for (;;) {
        try {
            ioc.run();
            return;
        } catch (const std::exception& e) {
            base::logFormat(base::LogLevel::Error, "http", "an event-loop handler threw: %s (loop keeps serving)",
                            e.what());
        } catch (...) {
            base::logError("http", "an event-loop handler threw a non-exception (loop keeps serving)");
        }
    }
}

void onAccepted(const std::shared_ptr<ServerState>& st, Listener& l, const error_code& ec, detail::Socket sock,
                std::size_t loop_index) {
    if (ec) {
        if (ec == asio::error::operation_aborted || st->stopped.load() || st->draining.load()) return;
        // EMFILE/ENFILE/ENOBUFS: back off instead of spinning on the error.
        l.retry.expires_after(std::chrono::milliseconds(50));
        l.retry.async_wait([st, &l](const error_code& e) {
            if (!e) acceptNext(st, l);
        });
        return;
    }
    acceptNext(st, l);
    auto& loop = *st->loops[loop_index];
    bool admin = l.admin, is_unix = l.is_unix;
    // Counted now (so concurrent accepts see each other); over a cap, the target loop makes
    // room by closing its oldest idle connection, or the new one is refused with 503.
    std::size_t n = st->connections.fetch_add(1, std::memory_order_acq_rel);
    bool over_total = n >= st->cfg.max_connections;
    std::string ip = is_unix ? std::string() : peerIp(sock);
    bool over_ip = false;
    if (!ip.empty() && st->cfg.max_connections_per_ip > 0) {
        std::lock_guard lock(st->per_ip_mutex);
        over_ip = ++st->per_ip[ip] > st->cfg.max_connections_per_ip;
    } else {
        ip.clear();
    }
    auto launch = [st, &loop, admin, is_unix, over_total, over_ip, ip](detail::Socket s) {
        // Same-address idle connections first: closing one frees both caps.
        bool room = true;
        if (over_ip) room = evictOldestIdle(loop, ip);
        if (room && over_total && !over_ip) room = evictOldestIdle(loop, {});
        auto c = std::make_shared<Connection>(*st, loop, std::move(s), admin, is_unix);
        if (!ip.empty()) c->countUnderIp(ip);
        if (!room) {
            st->connections.fetch_sub(1, std::memory_order_acq_rel);
            c->startRejected();  // its destructor leaves the per-address count
        } else {
            c->start();
        }
    };
    if (loop_index == 0)
        launch(std::move(sock));
    else
        asio::post(loop.ioc, [launch, s = std::move(sock)]() mutable { launch(std::move(s)); });
}

void acceptNext(const std::shared_ptr<ServerState>& st, Listener& l) {
    if (!l.acceptor.is_open()) return;
    std::size_t idx = st->next_loop++ % st->loops.size();
    l.acceptor.async_accept(st->loops[idx]->ioc, [st, &l, idx](const error_code& ec, detail::Socket s) {
        onAccepted(st, l, ec, std::move(s), idx);
    });
}

using Started = base::Expected<void, StartError>;

StartError failure(ServerErrc code, std::string message, int err = 0) { return {code, err, std::move(message)}; }

StartError sysFailure(ServerErrc code, const std::string& what, int err) {
    return {code, err, what + ": " + base::errnoText(err)};
}

// Wraps a listening fd into a Listener on loop 0. The Listener owns fd once this succeeds;
// on failure fd is left to the caller.
Started adopt(ServerState& st, int fd, bool admin) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return sysFailure(ServerErrc::AdoptFailed, "fd " + std::to_string(fd) + ": getsockname", errno);
    int listening = 0;
    socklen_t ol = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) != 0 || !listening)
        return failure(ServerErrc::AdoptFailed, "fd " + std::to_string(fd) + " is not a listening socket");
    int family = ss.ss_family;
    auto l = std::make_unique<Listener>(st.loops[0]->ioc);
    l->admin = admin;
    l->is_unix = family == AF_UNIX;
    error_code ec;
    l->acceptor.assign(asio::generic::stream_protocol(family, family == AF_UNIX ? 0 : IPPROTO_TCP), fd, ec);
    if (ec) return failure(ServerErrc::AdoptFailed, "fd " + std::to_string(fd) + ": " + ec.message(), ec.value());
    l->acceptor.non_blocking(true, ec);
    if (!l->is_unix && st.port == 0) {
        if (family == AF_INET) st.port = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
        if (family == AF_INET6) st.port = ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    }
    st.listeners.push_back(std::move(l));
    return {};
}

// Adopts a socket this server created: closed unless adopt() took it.
Started adoptOwned(ServerState& st, base::UniqueFd fd, bool admin) {
    auto adopted = adopt(st, fd.get(), admin);
    if (adopted) static_cast<void>(fd.release());  // the Listener's acceptor owns it now
    return adopted;
}

Started listenTcp(ServerState& st) {
    error_code ec;
    auto addr = asio::ip::make_address(st.cfg.bind_address, ec);
    if (ec) return failure(ServerErrc::InvalidAddress, "invalid bind address '" + st.cfg.bind_address + "'");
    sockaddr_storage ss{};
    socklen_t len;
    if (addr.is_v4()) {
        auto* in = reinterpret_cast<sockaddr_in*>(&ss);
        in->sin_family = AF_INET;
        in->sin_port = htons(st.cfg.port);
        auto b = addr.to_v4().to_bytes();
        std::memcpy(&in->sin_addr, b.data(), 4);
        len = sizeof *in;
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(st.cfg.port);
        auto b = addr.to_v6().to_bytes();
        std::memcpy(&in6->sin6_addr, b.data(), 16);
        len = sizeof *in6;
    }
    std::string where = st.cfg.bind_address + ":" + std::to_string(st.cfg.port);
    base::UniqueFd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return sysFailure(ServerErrc::BindFailed, "socket for " + where, errno);
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        int e = errno;
        return sysFailure(e == EADDRINUSE ? ServerErrc::AddressInUse : ServerErrc::BindFailed, "bind " + where, e);
    }
    if (::listen(fd.get(), SOMAXCONN) != 0) return sysFailure(ServerErrc::BindFailed, "listen " + where, errno);
    return adoptOwned(st, std::move(fd), false);
}

Started listenUnix(ServerState& st, const std::string& path, bool admin) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (path.size() >= sizeof sun.sun_path)
        return failure(ServerErrc::UnixSocketFailed, "unix socket path too long: " + path);
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
    struct stat sb {};
    if (::lstat(path.c_str(), &sb) == 0) {
        if (!S_ISSOCK(sb.st_mode)) return failure(ServerErrc::UnixSocketFailed, path + " exists and is not a socket");
        // A socket someone still accepts on belongs to a live process (another supervisor):
        // never take it over. Only a stale one (connection refused) is removed.
        // (Non-blocking: a live listener with a full backlog answers EAGAIN instead of waiting.)
        base::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        const bool live =
            probe && (::connect(probe.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0 || errno == EAGAIN);
        if (live)
            return failure(ServerErrc::UnixSocketFailed,
                           path + " is in use: another live process (a running supervisor?) accepts on it");
        ::unlink(path.c_str());  // stale socket from a previous run
    }
    base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return sysFailure(ServerErrc::UnixSocketFailed, "socket for " + path, errno);
    // Admin sockets are created 0600 from the start (no window with wider permissions).
    mode_t old = admin ? ::umask(0177) : 0;
    int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun);
    int e = errno;
    if (admin) ::umask(old);
    if (rc != 0) return sysFailure(ServerErrc::UnixSocketFailed, "bind " + path, e);
    if (admin) ::chmod(path.c_str(), 0600);
    st.unlink_on_exit.push_back(path);
    if (::listen(fd.get(), SOMAXCONN) != 0) return sysFailure(ServerErrc::UnixSocketFailed, "listen " + path, errno);
    return adoptOwned(st, std::move(fd), admin);
}

}  // namespace

Server::Server(ServerConfig config, Handler handler) : state_(std::make_shared<ServerState>()) {
    state_->cfg = std::move(config);
    state_->handler = std::move(handler);
    if (state_->cfg.threads == 0) state_->cfg.threads = 1;
    for (unsigned i = 0; i < state_->cfg.threads; ++i) {
        auto loop = std::make_unique<Loop>();
        loop->work.emplace(loop->ioc.get_executor());
        state_->loops.push_back(std::move(loop));
    }
}

Server::~Server() {
    stop();
    join();
    // Run what is still queued (the stop handlers if the loops never ran, aborted accepts
    // and reads) so no handler keeps the state alive through a reference cycle.
    for (auto& l : state_->loops) {
        l->work.reset();
        l->ioc.restart();
        l->ioc.poll();
    }
    for (auto& l : state_->loops) {
        for (auto* c = l->first; c;) {
            auto* n = c->next;
            c->closeNow(false);
            c = n;
        }
        l->ioc.restart();
        l->ioc.poll();
    }
    state_->listeners.clear();
    for (const auto& p : state_->unlink_on_exit) ::unlink(p.c_str());
}

base::Expected<void, StartError> Server::start() {
    auto& st = *state_;
    if (st.started) return failure(ServerErrc::AlreadyStarted, "server already started");
    st.started = true;
    if (auto opened = st.log.open(st.cfg.access_log); !opened)
        return failure(ServerErrc::AccessLogFailed, opened.error().message, opened.error().sys_errno);
    for (int fd : st.cfg.inherited_fds)
        if (auto r = adopt(st, fd, false); !r) return r;
    if (st.cfg.listen_tcp)
        if (auto r = listenTcp(st); !r) return r;
    if (!st.cfg.unix_socket_path.empty())
        if (auto r = listenUnix(st, st.cfg.unix_socket_path, false); !r) return r;
    if (!st.cfg.admin_socket_path.empty())
        if (auto r = listenUnix(st, st.cfg.admin_socket_path, true); !r) return r;
    if (st.listeners.empty()) return failure(ServerErrc::NoListeners, "no listener configured");
    for (auto& l : st.listeners) {
        auto s = state_;
        asio::post(st.loops[0]->ioc, [s, lp = l.get()] { acceptNext(s, *lp); });
    }
    return {};
}

void Server::run() {
    auto& st = *state_;
    for (std::size_t i = 1; i < st.loops.size(); ++i)
        st.threads.emplace_back([l = st.loops[i].get()] { runLoop(l->ioc); });
    runLoop(st.loops[0]->ioc);
    join();
}

void Server::runInThreads() {
    auto& st = *state_;
    for (auto& l : st.loops) st.threads.emplace_back([lp = l.get()] { runLoop(lp->ioc); });
}

void Server::join() {
    for (auto& t : state_->threads)
        if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    state_->threads.clear();
}

void Server::stopAccepting() {
    auto s = state_;
    s->draining.store(true);
    asio::post(s->loops[0]->ioc, [s] {
        for (auto& l : s->listeners) {
            error_code ec;
            l->acceptor.close(ec);
            l->retry.cancel();
        }
    });
    closeIdle();
}

void Server::closeIdle() {
    for (auto& lp : state_->loops) {
        auto* loop = lp.get();
        asio::post(loop->ioc, [s = state_, loop] {
            for (auto* c = loop->first; c;) {
                auto* n = c->next;
                auto keep = c->shared_from_this();
                c->closeIfIdle();
                c = n;
            }
        });
    }
}

bool Server::waitIdle(std::chrono::steady_clock::time_point deadline) {
    while (state_->connections.load() != 0) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

void Server::stop() {
    auto s = state_;
    if (s->stopped.exchange(true)) return;
    s->draining.store(true);
    for (std::size_t i = 0; i < s->loops.size(); ++i) {
        auto* loop = s->loops[i].get();
        asio::post(loop->ioc, [s, loop, i] {
            if (i == 0)
                for (auto& l : s->listeners) {
                    error_code ec;
                    l->acceptor.close(ec);
                    l->retry.cancel();
                }
            for (auto* c = loop->first; c;) {
                auto* n = c->next;
                auto keep = c->shared_from_this();
                c->closeNow(true);
                c = n;
            }
            loop->work.reset();
            loop->ioc.stop();
        });
    }
}

std::uint16_t Server::port() const noexcept { return state_->port; }
std::size_t Server::connectionCount() const noexcept { return state_->connections.load(); }
std::size_t Server::activeExchanges() const noexcept { return state_->active.load(); }
boost::asio::io_context& Server::ioContext(std::size_t loop) noexcept { return state_->loops.at(loop)->ioc; }

}  // namespace buntime::http
