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

// Length of the well-formed UTF-8 sequence at p[0..n) (2-4 bytes; no overlongs, surrogates
// or code points above U+10FFFF), or 0 when it is not one.
std::size_t utf8SequenceLength(const unsigned char* p, std::size_t n) noexcept {
    const unsigned char b = p[0];
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
    if (b >= 0xc2 && b <= 0xdf) {
        len = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        if (b == 0xe0) lo = 0xa0;
        if (b == 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        if (b == 0xf0) lo = 0x90;
        if (b == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi) return 0;
    for (std::size_t i = 2; i < len; ++i)
        if (p[i] < 0x80 || p[i] > 0xbf) return 0;
    return len;
}

// Appends `text` so that it can neither end the line nor forge another one: \n, \r and \t
// as such, every other C0 byte, DEL and each byte of an invalid UTF-8 sequence as \xNN;
// valid UTF-8 is kept as it is.
void appendEscaped(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f) {
            std::size_t j = i + 1;
            while (j < n && p[j] >= 0x20 && p[j] < 0x7f) ++j;
            out.append(text.data() + i, j - i);
            i = j;
        } else if (c >= 0x80) {
            if (const std::size_t len = utf8SequenceLength(p + i, n - i)) {
                out.append(text.data() + i, len);
                i += len;
            } else {
                out += "\\x";
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 0xf]);
                ++i;
            }
        } else {
            switch (c) {
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                out += "\\x";
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 0xf]);
            }
            ++i;
        }
    }
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
    char stamp[64];
    std::size_t n = formatStamp(stamp, sizeof stamp);
    const auto name = toString(level);
    char pid[32];
    const int m = std::snprintf(pid, sizeof pid, "] pid=%d ", static_cast<int>(::getpid()));
    const std::string_view pid_part(pid, m > 0 ? static_cast<std::size_t>(m) : 0);
    category = category.substr(0, 64);
    try {
        std::string line;
        line.reserve(n + name.size() + category.size() + pid_part.size() + message.size() + 4);
        line.append(stamp, n);
        line.push_back(' ');
        line.append(name);
        line.append(" [");
        appendEscaped(line, category);
        line.append(pid_part);
        appendEscaped(line, message);
        line.push_back('\n');
        writeAll(line.data(), line.size());
    } catch (...) {
        // Out of memory: still mark the event, without the category or message.
        static constexpr std::string_view kDropped = " (log line dropped: out of memory)\n";
        writeAll(stamp, n);
        writeAll(kDropped.data(), kDropped.size());
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
