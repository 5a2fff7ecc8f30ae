// SPDX-License-Identifier: MIT
// The worker's stderr logger: one line per call, prefixed with the pid and the app.
//
// Thread-safety: every function may be called from any thread; each line is written with a
// single write(2) so lines from different threads never interleave.
#pragma once

#include <string_view>

namespace buntime::worker::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

// Reads RUNTIME_LOG_LEVEL (debug|info|warn|error; default info).
void initFromEnv() noexcept;
// "name@version", shown on every line once known. Call before threads start.
void setTag(std::string_view tag) noexcept;
bool enabled(Level level) noexcept;
void write(Level level, std::string_view message) noexcept;
// printf-style formatting.
void logf(Level level, const char* format, ...) noexcept __attribute__((format(printf, 2, 3)));

}  // namespace buntime::worker::log

#define BUNTIME_LOG(level, ...)                                                              \
    do {                                                                                     \
        if (::buntime::worker::log::enabled(::buntime::worker::log::Level::level))           \
            ::buntime::worker::log::logf(::buntime::worker::log::Level::level, __VA_ARGS__); \
    } while (0)
