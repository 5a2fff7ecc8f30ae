// SPDX-License-Identifier: MIT
// Per-app output of workers: the supervisor reads each worker's stdout and stderr pipes on
// its core loop, splits them into lines, writes each line to its own log (tagged with app,
// version, pid and stream) and keeps the last lines of every app in a bounded ring that the
// admin API serves (GET …/apps/:name/logs, with follow=1 as server-sent events).
//
// Bounds: a read of at most kReadPerWake bytes per wake-up of one pipe (a flooding worker
// waits on its full pipe, the loop keeps serving), lines cut at kMaxLineBytes (the rest of
// such a line is dropped and the line marked truncated), and per app at most `lines_per_app`
// lines and kMaxAppBytes bytes kept.
//
// Thread-safety: core loop only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "buntime/base/log.h"
#include "buntime/base/printable.h"
#include "buntime/base/unique_fd.h"
#include "buntime/supervisor/client.h"

namespace buntime::supervisor {

enum class LogStream { Stdout, Stderr };
std::string_view toString(LogStream stream) noexcept;

struct AppLogLine {
    std::int64_t time_ms = 0;  // Unix time in milliseconds, when the line was complete
    std::string app;           // the app's name
    std::string version;
    int pid = 0;  // the worker process
    LogStream stream = LogStream::Stdout;
    std::string line;  // printable: valid UTF-8, control bytes and invalid bytes as \xNN
    bool truncated = false;
};

// {"time": "2026-11-30T03:04:05.678Z", "app", "version", "pid", "stream", "line"} plus
// "truncated": true for a cut line.
nlohmann::json toJson(const AppLogLine& line);
// "2026-11-30T03:04:05.678Z".
std::string formatLogTime(std::int64_t time_ms);

// App output as one printable line (never a newline, always valid JSON text).
using base::printableLine;

// The level of `line` in the supervisor's log: info for stdout; for stderr the level of a
// worker's own log line ("2026-11-30T03:04:05.678Z debug [app@1] ..."), else warn.
base::LogLevel lineLevel(const AppLogLine& line);

// Splits a byte stream into lines ('\n'; a trailing '\r' dropped). A line longer than
// `max_line` is cut there, marked truncated, and the rest of it up to the next newline
// dropped, so memory stays bounded whatever the writer does.
class LineSplitter {
public:
    struct Piece {
        std::string text;  // raw bytes, without the newline
        bool truncated = false;
    };
    explicit LineSplitter(std::size_t max_line) : max_line_(max_line) {}
    void feed(std::string_view data, std::vector<Piece>& out);
    // The end of the stream: a pending line without newline becomes a piece.
    void finish(std::vector<Piece>& out);
    std::size_t pendingBytes() const noexcept { return partial_.size(); }

private:
    std::size_t max_line_;
    std::string partial_;
    bool discarding_ = false;  // inside the dropped rest of a cut line
};

class AppLogs {
public:
    static constexpr std::size_t kDefaultLines = 1000;  // RUNTIME_APP_LOG_LINES
    static constexpr std::size_t kMaxLineBytes = 16 * 1024;
    static constexpr std::size_t kReadPerWake = 16 * 1024;  // per pipe and wake-up
    static constexpr std::size_t kMaxAppBytes = 8u << 20;   // line bytes kept per app

    AppLogs(boost::asio::io_context& io, std::size_t lines_per_app);
    ~AppLogs();
    AppLogs(const AppLogs&) = delete;
    AppLogs& operator=(const AppLogs&) = delete;

    // Reads a worker's stdout and stderr (the read ends of proc::makeStdioPipes) until EOF.
    void watch(std::string app, std::string version, int pid, base::UniqueFd out, base::UniqueFd err);
    // One line: to the supervisor's log, the app's ring and its followers.
    void add(AppLogLine line);

    // The last `n` lines of `app` (oldest first).
    std::vector<AppLogLine> tail(std::string_view app, std::size_t n) const;
    // True when `app` printed anything since the supervisor started.
    bool has(std::string_view app) const { return rings_.contains(std::string(app)); }
    std::size_t linesPerApp() const noexcept { return lines_per_app_; }
    std::size_t openReaders() const noexcept { return readers_.size(); }

    using Subscriber = std::function<void(const AppLogLine&)>;
    std::uint64_t subscribe(std::string app, Subscriber subscriber);
    void unsubscribe(std::uint64_t id);

private:
    struct Reader;
    struct Ring {
        std::deque<AppLogLine> lines;
        std::size_t bytes = 0;
    };
    void arm(const std::shared_ptr<Reader>& reader, int which);
    // Reads up to kReadPerWake bytes; `rearm` false: no new wait (the destructor's flush).
    void onReadable(const std::shared_ptr<Reader>& reader, int which, bool rearm = true);
    void closeStream(const std::shared_ptr<Reader>& reader, int which);

    boost::asio::io_context& io_;
    std::size_t lines_per_app_;
    std::map<std::string, Ring, std::less<>> rings_;
    std::map<std::uint64_t, std::shared_ptr<Reader>> readers_;
    std::uint64_t next_reader_ = 1;
    struct Subscription {
        std::string app;
        Subscriber callback;
    };
    std::map<std::uint64_t, Subscription> subscribers_;
    std::uint64_t next_subscriber_ = 1;
};

// `follow=1`: the lines of one app as server-sent events ("data: <json>\n\n" per line, a
// ": heartbeat" comment every kHeartbeat), until the client leaves or endAll() (shutdown).
// A client that reads slower than the app prints loses lines (a ": dropped N lines" comment
// says how many) instead of growing the supervisor's memory.
class LogFollowers {
public:
    static constexpr std::chrono::seconds kHeartbeat{15};
    static constexpr std::size_t kBacklogLimit = 1u << 20;  // bytes queued per client

    LogFollowers(boost::asio::io_context& io, AppLogs& logs) : io_(io), logs_(logs) {}
    ~LogFollowers();
    void start(std::shared_ptr<Client> client, std::string app, std::size_t tail);
    void endAll();
    std::size_t count() const noexcept { return followers_.size(); }

private:
    struct Follower;
    void write(const std::shared_ptr<Follower>& f, std::string text);
    void heartbeat(const std::shared_ptr<Follower>& f);
    void end(std::uint64_t id);

    boost::asio::io_context& io_;
    AppLogs& logs_;
    std::map<std::uint64_t, std::shared_ptr<Follower>> followers_;
    std::uint64_t next_id_ = 1;
};

}  // namespace buntime::supervisor
