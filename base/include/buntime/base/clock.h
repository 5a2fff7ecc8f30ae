// SPDX-License-Identifier: MIT
// The one clock of the project. Components that make decisions over time take a TimePoint
// `now` from their caller instead of reading the clock (see supervisor/pool).
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

namespace buntime::base {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// CLOCK_MONOTONIC in nanoseconds: the same clock in every process on the host, so the
// supervisor and its workers can compare the timestamps they put in protocol heads.
inline std::uint64_t monotonicNs() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline double msBetween(TimePoint start, TimePoint end) noexcept {
    return std::chrono::duration<double, std::milli>(end - start).count();
}

}  // namespace buntime::base
