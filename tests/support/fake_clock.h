// SPDX-License-Identifier: MIT
// A hand-advanced clock for code that takes `now` from its caller (pool, dispatcher).
#pragma once

#include <chrono>

#include "buntime/base/clock.h"

namespace buntime::test {

struct FakeClock {
    base::TimePoint now = base::TimePoint{} + std::chrono::hours(1);
    template <typename Rep, typename Period>
    base::TimePoint advance(std::chrono::duration<Rep, Period> d) {
        now += std::chrono::duration_cast<base::Clock::duration>(d);
        return now;
    }
};

}  // namespace buntime::test
