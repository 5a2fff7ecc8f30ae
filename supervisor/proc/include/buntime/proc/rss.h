// SPDX-License-Identifier: MIT
// Resident set size of a process, read from /proc/<pid>/statm.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace buntime::proc {

// Resident bytes of pid; nullopt if the process is gone or /proc is unreadable.
// Thread-safe (no shared state); one open+read+close per call.
std::optional<std::uint64_t> rssBytes(pid_t pid) noexcept;
std::optional<std::uint64_t> selfRssBytes() noexcept;

}  // namespace buntime::proc
