// SPDX-License-Identifier: MIT
// The stderr logger.
#include "buntime/base/log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace buntime::base {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};

void writeAll(const char* p, std::size_t n) noexcept {
    while (n > 0) {
        const ssize_t w = ::write(STDERR_FILENO, p, n);
        if (w <= 0) return;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

// "2026-01-02T03:04:05.678Z"; `out` holds at least 32 bytes.
std::size_t formatStamp(char* out, std::size_t size) noexcept {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    const int n = std::snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return n > 0 ? static_cast<std::size_t>(n) : 0;
}

}  // namespace

std::optional<LogLevel> parseLogLevel(std::string_view t) noexcept {
    if (t == "debug" || t == "trace") return LogLevel::Debug;
    if (t == "info") return LogLevel::Info;
    if (t == "warn" || t == "warning") return LogLevel::Warn;
    if (t == "error") return LogLevel::Error;
    if (t == "off" || t == "silent" || t == "none") return LogLevel::Off;
    return std::nullopt;
}

std::string_view toString(LogLevel level) noexcept {
    switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
    case LogLevel::Off: return "off";
    }
    return "info";
}

void setLogLevel(LogLevel level) noexcept { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
LogLevel logLevel() noexcept { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

bool setLogLevelFromEnv() noexcept {
    const char* text = std::getenv("RUNTIME_LOG_LEVEL");
    if (!text || !*text) return true;
    auto level = parseLogLevel(text);
    if (!level) return false;
    setLogLevel(*level);
    return true;
}

bool logEnabled(LogLevel level) noexcept {
    return level != LogLevel::Off && static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void logLine(LogLevel level, std::string_view category, std::string_view message) noexcept {
    char prefix[160];
    std::size_t n = formatStamp(prefix, sizeof prefix);
    const auto name = toString(level);
    const int m = std::snprintf(prefix + n, sizeof prefix - n, " %.*s [%.*s] pid=%d ", static_cast<int>(name.size()),
                                name.data(), static_cast<int>(std::min<std::size_t>(category.size(), 64)),
                                category.data(), static_cast<int>(::getpid()));
    if (m > 0) n = std::min(n + static_cast<std::size_t>(m), sizeof prefix - 1);
    try {
        std::string line;
        line.reserve(n + message.size() + 1);
        line.append(prefix, n);
        line.append(message);
        line.push_back('\n');
        writeAll(line.data(), line.size());
    } catch (...) {
        // Out of memory: still say something, in three writes.
        writeAll(prefix, n);
        writeAll(message.data(), message.size());
        writeAll("\n", 1);
    }
}

void logFormat(LogLevel level, std::string_view category, const char* format, ...) noexcept {
    if (!logEnabled(level)) return;
    char buf[8192];
    va_list args;
    va_start(args, format);
    const int n = std::vsnprintf(buf, sizeof buf, format, args);
    va_end(args);
    if (n < 0) return;
    logLine(level, category, std::string_view(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1)));
}

}  // namespace buntime::base
