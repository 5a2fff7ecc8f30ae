// SPDX-License-Identifier: MIT
// Time-bucketed counters for pool metrics: a sliding request rate and a recent-latency average.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "buntime/pool/types.h"

namespace buntime::pool {

// Events per second over the last `window`, from `now` values only (no clock reads).
// The window is split into `buckets` slots; the rate divides by the span actually
// covered, so it is exact for the first window after `origin` too. Not thread-safe.
class RateWindow {
public:
    RateWindow(Millis window, TimePoint origin, std::size_t buckets = 100);

    void record(TimePoint now, std::uint64_t count = 1);
    double perSecond(TimePoint now) const;

private:
    std::int64_t bucketIndex(TimePoint now) const;

    TimePoint origin_;
    Clock::duration bucket_width_;
    std::vector<std::uint64_t> counts_;
    std::vector<std::int64_t> indices_;  // absolute bucket index held by each slot, -1 = empty
};

// Mean of the last N samples (the seed averages its last 100 request durations).
class RecentAverage {
public:
    static constexpr std::size_t kSize = 100;

    void add(double sample) noexcept;
    double mean() const noexcept;

private:
    std::array<double, kSize> samples_{};
    std::size_t next_ = 0;
    std::size_t count_ = 0;
};

}  // namespace buntime::pool
