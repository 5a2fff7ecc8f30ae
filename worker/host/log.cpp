// SPDX-License-Identifier: MIT
// The worker's stderr logger.
#include "buntime/worker/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace buntime::worker::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::Info)};
char g_tag[128] = "";

const char* levelName(Level level) noexcept {
    switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
    }
    return "info";
}

}  // namespace

void initFromEnv() noexcept {
    const char* env = std::getenv("RUNTIME_LOG_LEVEL");
    if (!env) return;
    std::string_view v(env);
    if (v == "debug")
        g_level = static_cast<int>(Level::Debug);
    else if (v == "info")
        g_level = static_cast<int>(Level::Info);
    else if (v == "warn" || v == "warning")
        g_level = static_cast<int>(Level::Warn);
    else if (v == "error")
        g_level = static_cast<int>(Level::Error);
}

void setTag(std::string_view tag) noexcept {
    std::size_t n = tag.size() < sizeof g_tag - 1 ? tag.size() : sizeof g_tag - 1;
    std::memcpy(g_tag, tag.data(), n);
    g_tag[n] = '\0';
}

bool enabled(Level level) noexcept { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) noexcept {
    if (!enabled(level)) return;
    char line[2048];
    int n = std::snprintf(line, sizeof line, "buntime-worker[%d]%s%s %s: ", static_cast<int>(::getpid()),
                          g_tag[0] ? " " : "", g_tag, levelName(level));
    if (n < 0) return;
    std::size_t used = static_cast<std::size_t>(n) < sizeof line ? static_cast<std::size_t>(n) : sizeof line - 1;
    std::size_t room = sizeof line - 1 - used;
    std::size_t take = message.size() < room ? message.size() : room;
    std::memcpy(line + used, message.data(), take);
    used += take;
    line[used++] = '\n';
    const char* p = line;
    while (used > 0) {
        ssize_t w = ::write(STDERR_FILENO, p, used);
        if (w <= 0) break;
        p += w;
        used -= static_cast<std::size_t>(w);
    }
}

void logf(Level level, const char* format, ...) noexcept {
    if (!enabled(level)) return;
    char buf[1900];
    va_list args;
    va_start(args, format);
    int n = std::vsnprintf(buf, sizeof buf, format, args);
    va_end(args);
    if (n < 0) return;
    write(level, std::string_view(
                     buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1));
}

}  // namespace buntime::worker::log
