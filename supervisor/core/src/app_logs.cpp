// SPDX-License-Identifier: MIT
// Worker output capture: pipe readers, line splitting, per-app rings and SSE followers.
#include "app_logs.h"

#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "buntime/admin/schema.h"
#include "buntime/base/log.h"

namespace buntime::supervisor {
namespace asio = boost::asio;

std::string_view toString(LogStream stream) noexcept { return stream == LogStream::Stderr ? "stderr" : "stdout"; }

std::string formatLogTime(std::int64_t time_ms) {
    const std::time_t t = static_cast<std::time_t>(time_ms / 1000);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(time_ms % 1000));
    return buf;
}

nlohmann::json toJson(const AppLogLine& line) {
    admin::AppLogLineView v{formatLogTime(line.time_ms),        line.app,  line.version,  line.pid,
                            std::string(toString(line.stream)), line.line, line.truncated};
    return v;
}

void LineSplitter::feed(std::string_view data, std::vector<Piece>& out) {
    while (!data.empty()) {
        const auto nl = data.find('\n');
        const std::string_view chunk = data.substr(0, nl);
        if (discarding_) {
            if (nl == std::string_view::npos) return;
            discarding_ = false;
        } else {
            const std::size_t room = max_line_ - partial_.size();
            if (chunk.size() > room) {
                // The line reaches the cap: keep max_line_ bytes, drop the rest up to the newline.
                partial_.append(chunk.substr(0, room));
                out.push_back({std::move(partial_), true});
                partial_.clear();
                discarding_ = nl == std::string_view::npos;
            } else if (nl == std::string_view::npos) {
                partial_.append(chunk);
                return;
            } else {
                partial_.append(chunk);
                if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
                out.push_back({std::move(partial_), false});
                partial_.clear();
            }
        }
        if (nl == std::string_view::npos) return;
        data.remove_prefix(nl + 1);
    }
}

void LineSplitter::finish(std::vector<Piece>& out) {
    if (!partial_.empty()) {
        if (partial_.back() == '\r') partial_.pop_back();
        out.push_back({std::move(partial_), false});
    }
    partial_.clear();
    discarding_ = false;
}

// --- Readers ----------------------------------------------------------------------------

struct AppLogs::Reader {
    Reader(asio::io_context& io, std::uint64_t id_, std::string app_, std::string version_, int pid_)
        : id(id_), app(std::move(app_)), version(std::move(version_)), pid(pid_), fds{{io, -1}, {io, -1}} {}
    std::uint64_t id;
    std::string app;
    std::string version;
    int pid;
    struct Stream {
        Stream(asio::io_context& io, int) : descriptor(io) {}
        asio::posix::stream_descriptor descriptor;
        LineSplitter split{kMaxLineBytes};
        bool open = false;
    };
    Stream fds[2];
};

AppLogs::AppLogs(asio::io_context& io, std::size_t lines_per_app)
    : io_(io), lines_per_app_(lines_per_app == 0 ? 1 : lines_per_app) {}

AppLogs::~AppLogs() {
    // What workers printed last (during shutdown, after the loop stopped) still reaches the
    // supervisor's log: read what the pipes hold now, without waiting.
    subscribers_.clear();
    auto readers = readers_;
    for (auto& [id, reader] : readers) {
        for (int which = 0; which < 2; ++which) {
            for (int turn = 0; turn < 64 && reader->fds[which].open; ++turn) onReadable(reader, which, false);
            closeStream(reader, which);
        }
    }
}

void AppLogs::watch(std::string app, std::string version, int pid, base::UniqueFd out, base::UniqueFd err) {
    const auto id = next_reader_++;
    auto reader = std::make_shared<Reader>(io_, id, std::move(app), std::move(version), pid);
    base::UniqueFd fds[2] = {std::move(out), std::move(err)};
    for (int which = 0; which < 2; ++which) {
        if (!fds[which]) continue;
        boost::system::error_code ec;
        const int raw = fds[which].release();
        reader->fds[which].descriptor.assign(raw, ec);
        if (ec) {
            ::close(raw);
            base::logWarn("proc",
                          "cannot read the output of " + reader->app + "@" + reader->version + ": " + ec.message());
            continue;
        }
        reader->fds[which].open = true;
    }
    if (!reader->fds[0].open && !reader->fds[1].open) return;
    readers_.emplace(id, reader);
    for (int which = 0; which < 2; ++which)
        if (reader->fds[which].open) arm(reader, which);
}

void AppLogs::arm(const std::shared_ptr<Reader>& reader, int which) {
    std::weak_ptr<Reader> weak = reader;
    reader->fds[which].descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                             [this, weak, which](boost::system::error_code ec) {
                                                 auto r = weak.lock();
                                                 if (!r || !r->fds[which].open) return;
                                                 if (ec)
                                                     closeStream(r, which);
                                                 else
                                                     onReadable(r, which);
                                             });
}

void AppLogs::onReadable(const std::shared_ptr<Reader>& reader, int which, bool rearm) {
    auto& stream = reader->fds[which];
    const int fd = stream.descriptor.native_handle();
    char buf[kReadPerWake];
    std::size_t total = 0;
    bool eof = false;
    std::vector<LineSplitter::Piece> pieces;
    while (total < sizeof buf) {
        const ssize_t n = ::read(fd, buf + total, sizeof buf - total);
        if (n > 0) {
            stream.split.feed(std::string_view(buf + total, static_cast<std::size_t>(n)), pieces);
            total += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        eof = true;  // EOF, or an error that ends the stream
        break;
    }
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const auto kind = which == 0 ? LogStream::Stdout : LogStream::Stderr;
    for (auto& piece : pieces)
        add({now_ms, reader->app, reader->version, reader->pid, kind, printableLine(piece.text), piece.truncated});
    if (eof) {
        closeStream(reader, which);
    } else if (!rearm) {
        if (total < sizeof buf) closeStream(reader, which);  // drained for now: the shutdown flush ends here
    } else if (total >= sizeof buf) {
        // More may be waiting: read it after the other ready handlers had their turn.
        std::weak_ptr<Reader> weak = reader;
        asio::post(io_, [this, weak, which] {
            if (auto r = weak.lock(); r && r->fds[which].open) onReadable(r, which);
        });
    } else {
        arm(reader, which);
    }
}

void AppLogs::closeStream(const std::shared_ptr<Reader>& reader, int which) {
    auto& stream = reader->fds[which];
    if (!stream.open) return;
    stream.open = false;
    std::vector<LineSplitter::Piece> pieces;
    stream.split.finish(pieces);
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    for (auto& piece : pieces)
        add({now_ms, reader->app, reader->version, reader->pid, which == 0 ? LogStream::Stdout : LogStream::Stderr,
             printableLine(piece.text), piece.truncated});
    boost::system::error_code ignored;
    stream.descriptor.close(ignored);
    if (!reader->fds[0].open && !reader->fds[1].open) readers_.erase(reader->id);
}

// --- Rings and subscribers ----------------------------------------------------------------

base::LogLevel lineLevel(const AppLogLine& line) {
    if (line.stream == LogStream::Stdout) return base::LogLevel::Info;
    // A worker's own log line ("<UTC time> <level> [<app>] ...") keeps its level; other
    // stderr output is a warning.
    const std::string_view text = line.line;
    if (text.size() > 26 && text[4] == '-' && text[10] == 'T' && text[23] == 'Z' && text[24] == ' ') {
        const auto rest = text.substr(25);
        const auto space = rest.find(' ');
        if (space != std::string_view::npos && rest.substr(space).starts_with(" [")) {
            if (auto level = base::parseLogLevel(rest.substr(0, space))) return *level;
        }
    }
    return base::LogLevel::Warn;
}

void AppLogs::add(AppLogLine line) {
    const auto level = lineLevel(line);
    if (base::logEnabled(level)) {
        base::logLine(level, line.app + "@" + line.version,
                      "worker=" + std::to_string(line.pid) + " " + std::string(toString(line.stream)) + ": " +
                          line.line + (line.truncated ? " [truncated]" : ""));
    }
    std::vector<Subscriber> notify;
    for (const auto& [id, sub] : subscribers_)
        if (sub.app == line.app) notify.push_back(sub.callback);
    for (const auto& callback : notify) callback(line);

    auto& ring = rings_[line.app];
    ring.bytes += line.line.size();
    ring.lines.push_back(std::move(line));
    while (ring.lines.size() > lines_per_app_ || (ring.bytes > kMaxAppBytes && ring.lines.size() > 1)) {
        ring.bytes -= ring.lines.front().line.size();
        ring.lines.pop_front();
    }
}

std::vector<AppLogLine> AppLogs::tail(std::string_view app, std::size_t n) const {
    std::vector<AppLogLine> out;
    auto it = rings_.find(app);
    if (it == rings_.end()) return out;
    const auto& lines = it->second.lines;
    const std::size_t count = std::min(n, lines.size());
    out.assign(lines.end() - static_cast<std::ptrdiff_t>(count), lines.end());
    return out;
}

std::uint64_t AppLogs::subscribe(std::string app, Subscriber subscriber) {
    const auto id = next_subscriber_++;
    subscribers_.emplace(id, Subscription{std::move(app), std::move(subscriber)});
    return id;
}

void AppLogs::unsubscribe(std::uint64_t id) { subscribers_.erase(id); }

// --- Followers (server-sent events) -------------------------------------------------------

struct LogFollowers::Follower {
    Follower(asio::io_context& io, std::uint64_t id_, std::shared_ptr<Client> client_)
        : id(id_), client(std::move(client_)), timer(io) {}
    std::uint64_t id;
    std::shared_ptr<Client> client;
    std::uint64_t subscription = 0;
    asio::steady_timer timer;
    std::size_t queued = 0;  // bytes handed to the client and not yet written
    std::uint64_t dropped = 0;
    bool ended = false;
};

namespace {
std::string event(const AppLogLine& line) { return "data: " + admin::dumpJson(toJson(line)) + "\n\n"; }
}  // namespace

LogFollowers::~LogFollowers() {
    for (auto& [id, f] : followers_) logs_.unsubscribe(f->subscription);
}

void LogFollowers::start(std::shared_ptr<Client> client, std::string app, std::size_t tail) {
    const auto id = next_id_++;
    auto f = std::make_shared<Follower>(io_, id, std::move(client));
    followers_.emplace(id, f);
    std::weak_ptr<Follower> weak = f;
    f->client->onClientGone([this, weak] {
        if (auto g = weak.lock()) end(g->id);
    });
    f->client->startResponse(200,
                             {{"content-type", "text/event-stream; charset=utf-8"},
                              {"cache-control", "no-cache"},
                              {"x-accel-buffering", "no"}},
                             std::nullopt);
    write(f, ": following " + printableLine(app) + "\n\n");
    for (const auto& line : logs_.tail(app, tail)) write(f, event(line));
    f->subscription = logs_.subscribe(app, [this, weak](const AppLogLine& line) {
        if (auto g = weak.lock()) write(g, event(line));
    });
    heartbeat(f);
}

void LogFollowers::write(const std::shared_ptr<Follower>& f, std::string text) {
    if (f->ended) return;
    if (f->queued + text.size() > kBacklogLimit) {
        ++f->dropped;  // a slow reader: lose lines, not memory
        return;
    }
    if (f->dropped) {
        text = ": dropped " + std::to_string(f->dropped) + " lines\n\n" + text;
        f->dropped = 0;
    }
    const std::size_t n = text.size();
    f->queued += n;
    std::weak_ptr<Follower> weak = f;
    f->client->writeBody(std::move(text), [this, weak, n](bool ok) {
        auto g = weak.lock();
        if (!g) return;
        g->queued -= std::min(n, g->queued);
        if (!ok) end(g->id);
    });
}

void LogFollowers::heartbeat(const std::shared_ptr<Follower>& f) {
    std::weak_ptr<Follower> weak = f;
    f->timer.expires_after(kHeartbeat);
    f->timer.async_wait([this, weak](boost::system::error_code ec) {
        auto g = weak.lock();
        if (ec || !g || g->ended) return;
        write(g, ": heartbeat\n\n");
        heartbeat(g);
    });
}

void LogFollowers::end(std::uint64_t id) {
    auto it = followers_.find(id);
    if (it == followers_.end()) return;
    auto f = it->second;
    followers_.erase(it);
    f->ended = true;
    logs_.unsubscribe(f->subscription);
    f->timer.cancel();
    f->client->endResponse();
}

void LogFollowers::endAll() {
    while (!followers_.empty()) end(followers_.begin()->first);
}

}  // namespace buntime::supervisor
