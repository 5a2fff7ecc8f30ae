// SPDX-License-Identifier: MIT
// The one logger of every process: a line per event on stderr (journald collects it),
//   <UTC time> <level> [<category>] pid=<pid> <message>
// The supervisor names a component as the category ("pool", "proc"); a worker names its
// app ("hello@1.0.0"). The level comes from RUNTIME_LOG_LEVEL.
//
// Thread-safe: each line is one write(2), so lines of different threads never interleave.
#pragma once

#include <optional>
#include <string_view>

namespace buntime::base {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

// debug|trace, info, warn|warning, error, off|silent|none; nullopt for anything else.
std::optional<LogLevel> parseLogLevel(std::string_view text) noexcept;
std::string_view toString(LogLevel level) noexcept;

// The level of this process (default Info).
void setLogLevel(LogLevel level) noexcept;
LogLevel logLevel() noexcept;
// Sets the level from RUNTIME_LOG_LEVEL when it is set and valid; returns false when it is
// set but invalid (the level is left as it was).
bool setLogLevelFromEnv() noexcept;
bool logEnabled(LogLevel level) noexcept;

void logLine(LogLevel level, std::string_view category, std::string_view message) noexcept;
// printf-style; the message is truncated at 8 KiB.
void logFormat(LogLevel level, std::string_view category, const char* format, ...) noexcept
    __attribute__((format(printf, 3, 4)));

inline void logDebug(std::string_view category, std::string_view message) noexcept {
    if (logEnabled(LogLevel::Debug)) logLine(LogLevel::Debug, category, message);
}
inline void logInfo(std::string_view category, std::string_view message) noexcept {
    if (logEnabled(LogLevel::Info)) logLine(LogLevel::Info, category, message);
}
inline void logWarn(std::string_view category, std::string_view message) noexcept {
    if (logEnabled(LogLevel::Warn)) logLine(LogLevel::Warn, category, message);
}
inline void logError(std::string_view category, std::string_view message) noexcept {
    if (logEnabled(LogLevel::Error)) logLine(LogLevel::Error, category, message);
}

}  // namespace buntime::base
