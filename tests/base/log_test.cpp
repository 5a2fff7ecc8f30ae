// SPDX-License-Identifier: MIT
// base/log: one level parser and one line format for every process.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <string>

#include "buntime/base/log.h"

using namespace buntime::base;

namespace {

// Runs `f` with stderr redirected into a pipe and returns what it wrote.
template <typename F>
std::string captureStderr(F f) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const int saved = ::dup(STDERR_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[1]);
    f();
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    std::string out;
    char buf[4096];
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    return out;
}

}  // namespace

TEST_CASE("parseLogLevel knows every spelling of the supervisor and the worker") {
    CHECK(parseLogLevel("debug") == LogLevel::Debug);
    CHECK(parseLogLevel("trace") == LogLevel::Debug);
    CHECK(parseLogLevel("info") == LogLevel::Info);
    CHECK(parseLogLevel("warning") == LogLevel::Warn);
    CHECK(parseLogLevel("error") == LogLevel::Error);
    for (const char* off : {"off", "silent", "none"}) CHECK(parseLogLevel(off) == LogLevel::Off);
    CHECK_FALSE(parseLogLevel("loud").has_value());
    CHECK_FALSE(parseLogLevel("INFO").has_value());
}

TEST_CASE("a line is time, level, category, pid and message; levels below the setting are dropped") {
    setLogLevel(LogLevel::Info);
    auto out = captureStderr([] {
        logInfo("pool", "retiring worker hello@1.0.0");
        logDebug("pool", "not shown");
        logFormat(LogLevel::Warn, "hello@1.0.0", "request %d failed: %s", 7, "boom");
    });
    const std::string pid = std::to_string(::getpid());
    std::regex line1("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z info \\[pool\\] pid=" + pid +
                     " retiring worker hello@1\\.0\\.0\n");
    CHECK(std::regex_search(out, line1));
    CHECK(out.find("not shown") == std::string::npos);
    CHECK(out.find(" warn [hello@1.0.0] pid=" + pid + " request 7 failed: boom\n") != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 2);

    setLogLevel(LogLevel::Off);
    CHECK(captureStderr([] { logError("x", "silenced"); }).empty());
    CHECK_FALSE(logEnabled(LogLevel::Off));
    setLogLevel(LogLevel::Info);
}

TEST_CASE("setLogLevelFromEnv applies a valid RUNTIME_LOG_LEVEL and reports an invalid one") {
    ::setenv("RUNTIME_LOG_LEVEL", "error", 1);
    CHECK(setLogLevelFromEnv());
    CHECK(logLevel() == LogLevel::Error);
    ::setenv("RUNTIME_LOG_LEVEL", "chatty", 1);
    CHECK_FALSE(setLogLevelFromEnv());
    CHECK(logLevel() == LogLevel::Error);
    ::unsetenv("RUNTIME_LOG_LEVEL");
    CHECK(setLogLevelFromEnv());
    setLogLevel(LogLevel::Info);
}

TEST_CASE("an app's bytes cannot forge a log line: controls are escaped, invalid UTF-8 becomes \\xNN") {
    setLogLevel(LogLevel::Info);
    const std::string pid = std::to_string(::getpid());
    auto out = captureStderr([] {
        logError("hello@1.0.0", "boom\n2026-01-01T00:00:00.000Z info [pool] pid=1 forged\r\tend");
        static constexpr char kControls[] = "nul\0bell\x07 esc\x1b[31m del\x7f";
        logError("hello@1.0.0", std::string_view(kControls, sizeof kControls - 1));
        logError("hello@1.0.0", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ok");  // valid UTF-8 stays
        logError("hello@1.0.0", "latin1 \xff\xfe, cut \xe2\x82, overlong \xc0\xaf, surrogate \xed\xa0\x80");
        logError("evil\n[app]", "x");
    });
    CHECK(std::count(out.begin(), out.end(), '\n') == 5);
    CHECK(out.find("pid=" + pid + " boom\\n2026-01-01T00:00:00.000Z info [pool] pid=1 forged\\r\\tend\n") !=
          std::string::npos);
    CHECK(out.find("pid=" + pid + " nul\\x00bell\\x07 esc\\x1b[31m del\\x7f\n") != std::string::npos);
    CHECK(out.find("pid=" + pid + " caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ok\n") != std::string::npos);
    CHECK(out.find("latin1 \\xff\\xfe, cut \\xe2\\x82, overlong \\xc0\\xaf, surrogate \\xed\\xa0\\x80\n") !=
          std::string::npos);
    CHECK(out.find("[evil\\n[app]] pid=" + pid + " x\n") != std::string::npos);
    for (unsigned char c : out) CHECK((c == '\n' || (c >= 0x20 && c != 0x7f)));
}
