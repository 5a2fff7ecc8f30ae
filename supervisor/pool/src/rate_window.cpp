// SPDX-License-Identifier: MIT
// RateWindow and RecentAverage: metric windows driven by caller-supplied time.
#include "buntime/pool/rate_window.h"

#include <algorithm>

namespace buntime::pool {

RateWindow::RateWindow(Millis window, TimePoint origin, std::size_t buckets)
    : origin_(origin),
      bucket_width_(std::max<Clock::duration>(std::chrono::duration_cast<Clock::duration>(std::max(window, Millis{1})) /
                                                  static_cast<Clock::rep>(std::max<std::size_t>(buckets, 1)),
                                              Clock::duration{1})),
      counts_(std::max<std::size_t>(buckets, 1), 0),
      indices_(std::max<std::size_t>(buckets, 1), -1) {}

std::int64_t RateWindow::bucketIndex(TimePoint now) const {
    if (now <= origin_) return 0;
    return static_cast<std::int64_t>((now - origin_) / bucket_width_);
}

void RateWindow::record(TimePoint now, std::uint64_t count) {
    const std::int64_t idx = bucketIndex(now);
    const std::size_t slot = static_cast<std::size_t>(idx) % counts_.size();
    if (indices_[slot] != idx) {
        indices_[slot] = idx;
        counts_[slot] = 0;
    }
    counts_[slot] += count;
}

double RateWindow::perSecond(TimePoint now) const {
    const std::int64_t current = bucketIndex(now);
    const std::int64_t oldest = std::max<std::int64_t>(current - static_cast<std::int64_t>(counts_.size()) + 1, 0);
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        if (indices_[i] >= oldest && indices_[i] <= current) total += counts_[i];
    }
    const TimePoint span_start = origin_ + bucket_width_ * oldest;
    const double seconds = std::chrono::duration<double>(now - span_start).count();
    if (seconds <= 0) return 0;
    return static_cast<double>(total) / seconds;
}

void RecentAverage::add(double sample) noexcept {
    samples_[next_] = sample;
    next_ = (next_ + 1) % kSize;
    if (count_ < kSize) ++count_;
}

double RecentAverage::mean() const noexcept {
    if (count_ == 0) return 0;
    double sum = 0;
    for (std::size_t i = 0; i < count_; ++i) sum += samples_[i];
    return sum / static_cast<double>(count_);
}

}  // namespace buntime::pool
