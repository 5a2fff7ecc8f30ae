// SPDX-License-Identifier: MIT
// Supervisor logging: one line per event on stderr, "<time> <level> [<category>] pid=<pid> msg".
// Thread-safe (one write(2) per line). The level comes from RUNTIME_LOG_LEVEL.
#pragma once

#include <string_view>

namespace buntime::supervisor {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

LogLevel parseLogLevel(std::string_view text, LogLevel fallback = LogLevel::Info);
void setLogLevel(LogLevel level);
bool logEnabled(LogLevel level);
void logLine(LogLevel level, std::string_view category, std::string_view message);

inline void logDebug(std::string_view c, std::string_view m) {
    if (logEnabled(LogLevel::Debug)) logLine(LogLevel::Debug, c, m);
}
inline void logInfo(std::string_view c, std::string_view m) {
    if (logEnabled(LogLevel::Info)) logLine(LogLevel::Info, c, m);
}
inline void logWarn(std::string_view c, std::string_view m) {
    if (logEnabled(LogLevel::Warn)) logLine(LogLevel::Warn, c, m);
}
inline void logError(std::string_view c, std::string_view m) {
    if (logEnabled(LogLevel::Error)) logLine(LogLevel::Error, c, m);
}

}  // namespace buntime::supervisor
