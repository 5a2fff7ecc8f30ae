// SPDX-License-Identifier: MIT
// The HTTP/1.1 front of the supervisor: listeners, event loops, connections.
#pragma once

#include "buntime/base/expected.h"
#include "buntime/http/client_address.h"
#include "buntime/http/exchange.h"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace buntime::http {

struct ServerConfig {
    std::string bind_address = "0.0.0.0";              // IPv4 or IPv6 literal
    std::uint16_t port = 8000;                         // 0 = ephemeral (see Server::port())
    bool listen_tcp = true;                            // false: only unix sockets / inherited fds
    std::string unix_socket_path;                      // empty = none; a stale socket file is replaced
    std::string admin_socket_path;                     // empty = none; mode 0600; sets from_admin_socket
    std::vector<int> inherited_fds;                    // listening sockets to adopt (proc::listenFds parses LISTEN_FDS)
    unsigned threads = 1;                              // event loops; each has its own io_context
    std::size_t header_limit = 16 * 1024;              // request line + headers; over it → 431 + close
    std::size_t read_buffer_size = 32 * 1024;          // per connection; also the max body chunk
    std::chrono::milliseconds header_timeout{10'000};  // head not complete → 408 + close
    std::chrono::milliseconds idle_timeout{60'000};    // keep-alive idle → close
    std::chrono::milliseconds linger_timeout{2'000};   // drain after an error reply
    // Request body: each read must bring bytes within this (like nginx client_body_timeout)
    // while the handler waits for them, else 408 (or abort if the response started) + close.
    std::chrono::milliseconds body_timeout{60'000};
    // Minimum average body rate (bytes/s, 0 = none): the time a body may spend waiting for
    // the client is body_timeout plus 1 s per body_min_rate bytes received.
    std::uint64_t body_min_rate = 1024;
    // Open connections cap (all loops), and per client address (TCP only; 0 = none). A
    // connection over a cap first makes room by closing the oldest idle keep-alive
    // connection (of that address for the per-address cap); only when none is idle is it
    // answered "503 Service Unavailable" with connection: close, and closed.
    std::size_t max_connections = 10'000;
    std::size_t max_connections_per_ip = 0;
    std::uint64_t max_requests_per_connection = 0;  // 0 = unlimited
    std::string access_log = "off";                 // "off" | "stderr" | a file path (appended)
    // Peers whose X-Forwarded-For names the client in the access log's "remote" (see
    // clientAddress); the per-address connection cap always counts the TCP peer.
    TrustedProxies trusted_proxies = {};
};

// Called on the connection's loop for each request head. It must not block; it may
// respond inline or keep the Exchange and finish later from any thread. An exception
// escaping it is caught: 500 (or abort if the response had started).
using Handler = std::function<void(std::shared_ptr<Exchange>)>;

// Why start() failed.
enum class ServerErrc {
    AlreadyStarted,
    InvalidAddress,
    AddressInUse,
    BindFailed,
    UnixSocketFailed,
    AdoptFailed,
    AccessLogFailed,
    NoListeners,
};

struct StartError {
    ServerErrc code = ServerErrc::BindFailed;
    int sys_errno = 0;    // the errno of the failing call, 0 when none
    std::string message;  // human-readable, names the address/path and errno text
};

namespace detail {
struct ServerState;
}

// Threading: loop i runs on one thread. Listeners (TCP, unix, admin, inherited) accept on
// loop 0 and hand connections to loops round-robin. Every public method is thread-safe
// except start() (call once, before run) and ioContext() (the reference is stable).
class Server {
public:
    Server(ServerConfig config, Handler handler);
    ~Server();  // stop() + join(); unlinks the unix socket files it created
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Opens the access log, binds/listens/adopts every listener; no thread yet.
    base::Expected<void, StartError> start();
    // Runs loop 0 on the calling thread (loops 1..n-1 on internal threads) until stop().
    void run();
    // Runs every loop on internal threads and returns; join() waits for them.
    void runInThreads();
    void join();

    // Closes the listeners; from now on responses carry "connection: close" and
    // connections close once their current exchange completes.
    void stopAccepting();
    // Closes connections that wait between requests (no exchange, no buffered bytes).
    void closeIdle();
    // Blocks until connectionCount() == 0 or the deadline; true if drained. Do not call
    // it from a loop thread.
    bool waitIdle(std::chrono::steady_clock::time_point deadline);
    // Closes everything (in-flight exchanges see onClientGone) and ends run().
    void stop();

    std::uint16_t port() const noexcept;  // first TCP listener's port (0 if none)
    std::size_t connectionCount() const noexcept;
    std::size_t activeExchanges() const noexcept;  // requests being handled
    // Loop i's io_context (0 by default) so the owner can add timers/fds to it.
    boost::asio::io_context& ioContext(std::size_t loop = 0) noexcept;

private:
    std::shared_ptr<detail::ServerState> state_;
};

}  // namespace buntime::http
