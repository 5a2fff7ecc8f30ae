// SPDX-License-Identifier: MIT
// AppLogs without processes: printable lines, line splitting with the byte cap, the ring
// bounds, subscribers, the level of worker log lines, and a real pipe read on a loop.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <unistd.h>

#include "app_logs.h"
#include "buntime/proc/process.h"

using namespace buntime::supervisor;

namespace {

std::vector<LineSplitter::Piece> split(LineSplitter& s, std::initializer_list<std::string_view> parts) {
    std::vector<LineSplitter::Piece> out;
    for (auto p : parts) s.feed(p, out);
    return out;
}

AppLogLine line(std::string app, std::string text, LogStream stream = LogStream::Stdout) {
    return {0, std::move(app), "1.0.0", 7, stream, std::move(text), false};
}

}  // namespace

TEST_CASE("printableLine keeps UTF-8 and tab, escapes control bytes and invalid sequences") {
    CHECK(printableLine("plain text\tand tab") == "plain text\tand tab");
    CHECK(printableLine("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    CHECK(printableLine(std::string("a\0b", 3)) == "a\\x00b");
    CHECK(printableLine("\x1b[2J\r\n\x7f") == "\\x1b[2J\\x0d\\x0a\\x7f");
    CHECK(printableLine("\xff\xfe") == "\\xff\\xfe");
    CHECK(printableLine("\xc0\xaf") == "\\xc0\\xaf");           // overlong '/'
    CHECK(printableLine("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
    CHECK(printableLine("\xc2\x9b") == "\\xc2\\x9b");           // C1 CSI
    CHECK(printableLine("cut \xe2\x82") == "cut \\xe2\\x82");   // truncated sequence
}

TEST_CASE("LineSplitter: lines across reads, CRLF, the cap and the dropped rest of a long line") {
    LineSplitter s(8);
    auto out = split(s, {"ab", "c\nde\r\n", "f"});
    REQUIRE(out.size() == 2);
    CHECK(out[0].text == "abc");
    CHECK(out[1].text == "de");
    CHECK(s.pendingBytes() == 1);
    out = split(s, {"ghijklmnop", "qrs", "\nnext\n"});
    REQUIRE(out.size() == 2);
    CHECK(out[0].text == "fghijklm");
    CHECK(out[0].truncated);
    CHECK(out[1].text == "next");
    CHECK_FALSE(out[1].truncated);
    // Exactly the cap is not truncated.
    out = split(s, {"12345678", "\n"});
    REQUIRE(out.size() == 1);
    CHECK(out[0].text == "12345678");
    CHECK_FALSE(out[0].truncated);
    // A pending line without newline comes out at the end.
    out = split(s, {"tail"});
    CHECK(out.empty());
    s.finish(out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].text == "tail");
}

TEST_CASE("the ring keeps the last N lines per app; subscribers see only their app") {
    buntime::base::setLogLevel(buntime::base::LogLevel::Off);  // add() also logs each line
    boost::asio::io_context io;
    AppLogs logs(io, 3);
    std::vector<std::string> seen;
    const auto id = logs.subscribe("a", [&](const AppLogLine& l) { seen.push_back(l.line); });
    for (int i = 0; i < 5; ++i) {
        std::string text = "a";
        text += std::to_string(i);
        logs.add(line("a", std::move(text)));
    }
    logs.add(line("b", "b0"));
    auto tail = logs.tail("a", 10);
    REQUIRE(tail.size() == 3);
    CHECK(tail.front().line == "a2");
    CHECK(tail.back().line == "a4");
    CHECK(logs.tail("a", 1).at(0).line == "a4");
    CHECK(logs.tail("b", 10).size() == 1);
    CHECK(logs.tail("c", 10).empty());
    CHECK_FALSE(logs.has("c"));
    CHECK(seen == std::vector<std::string>{"a0", "a1", "a2", "a3", "a4"});
    logs.unsubscribe(id);
    logs.add(line("a", "after"));
    CHECK(seen.size() == 5);
}

TEST_CASE("the ring also holds at most kMaxAppBytes of line text") {
    buntime::base::setLogLevel(buntime::base::LogLevel::Off);
    boost::asio::io_context io;
    AppLogs logs(io, 100000);
    const std::string big(AppLogs::kMaxLineBytes, 'x');
    const std::size_t n = AppLogs::kMaxAppBytes / big.size() + 50;
    for (std::size_t i = 0; i < n; ++i) logs.add(line("a", big));
    CHECK(logs.tail("a", n).size() * big.size() <= AppLogs::kMaxAppBytes);
}

TEST_CASE("lineLevel: stdout info, a worker's log line keeps its level, other stderr warn") {
    CHECK(lineLevel(line("a", "x")) == buntime::base::LogLevel::Info);
    CHECK(lineLevel(line("a", "2026-11-30T03:04:05.678Z debug [a@1] pid=3 hi", LogStream::Stderr)) ==
          buntime::base::LogLevel::Debug);
    CHECK(lineLevel(line("a", "2026-11-30T03:04:05.678Z error [a@1] pid=3 hi", LogStream::Stderr)) ==
          buntime::base::LogLevel::Error);
    CHECK(lineLevel(line("a", "Traceback (most recent call last):", LogStream::Stderr)) ==
          buntime::base::LogLevel::Warn);
}

TEST_CASE("watch reads a pipe pair on the loop, keeps a partial last line at EOF, and closes the reader") {
    boost::asio::io_context io;
    buntime::base::setLogLevel(buntime::base::LogLevel::Off);
    AppLogs logs(io, 5000);
    auto pipes = buntime::proc::makeStdioPipes();
    REQUIRE(pipes);
    CHECK((::fcntl(pipes->out_read.get(), F_GETFL) & O_NONBLOCK) != 0);
    CHECK((::fcntl(pipes->out_read.get(), F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((::fcntl(pipes->err_write.get(), F_GETFD) & FD_CLOEXEC) != 0);
    logs.watch("app", "2.0.0", 99, std::move(pipes->out_read), std::move(pipes->err_read));
    CHECK(logs.openReaders() == 1);
    // More than one read's worth, so the reader has to come back for the rest.
    std::string text;
    for (int i = 0; i < 3000; ++i) {
        text += "line ";
        text += std::to_string(i);
        text += '\n';
    }
    text += "no newline";
    REQUIRE(text.size() > AppLogs::kReadPerWake);
    REQUIRE(::write(pipes->out_write.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    REQUIRE(::write(pipes->err_write.get(), "oops\n", 5) == 5);
    pipes->out_write.reset();
    pipes->err_write.reset();
    io.run_for(std::chrono::seconds(5));
    auto tail = logs.tail("app", 5000);
    REQUIRE(tail.size() == 3002);  // 3000 lines, the partial one, "oops"
    CHECK(logs.openReaders() == 0);
    bool saw_partial = false, saw_err = false;
    for (const auto& l : tail) {
        CHECK(l.pid == 99);
        CHECK(l.version == "2.0.0");
        saw_partial = saw_partial || (l.line == "no newline" && l.stream == LogStream::Stdout);
        saw_err = saw_err || (l.line == "oops" && l.stream == LogStream::Stderr);
    }
    CHECK(saw_partial);
    CHECK(saw_err);
}
