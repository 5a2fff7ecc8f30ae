// SPDX-License-Identifier: MIT
// Stderr logger shared by the supervisor's components.
#include "buntime/supervisor/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace buntime::supervisor {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};

const char* levelName(LogLevel l) {
    switch (l) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
    case LogLevel::Off: return "off";
    }
    return "?";
}
}  // namespace

LogLevel parseLogLevel(std::string_view t, LogLevel fallback) {
    if (t == "debug" || t == "trace") return LogLevel::Debug;
    if (t == "info") return LogLevel::Info;
    if (t == "warn" || t == "warning") return LogLevel::Warn;
    if (t == "error") return LogLevel::Error;
    if (t == "off" || t == "silent" || t == "none") return LogLevel::Off;
    return fallback;
}

void setLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
bool logEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void logLine(LogLevel level, std::string_view category, std::string_view message) {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[96];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    std::string line;
    line.reserve(64 + message.size());
    line += stamp;
    line += ' ';
    line += levelName(level);
    line += " [";
    line += category;
    line += "] pid=";
    line += std::to_string(::getpid());
    line += ' ';
    line += message;
    line += '\n';
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace buntime::supervisor
