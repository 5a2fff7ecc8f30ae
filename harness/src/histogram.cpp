// SPDX-License-Identifier: MIT
// Log-linear latency histogram: bucket arithmetic and percentile walk.
#include "buntime/harness/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace buntime::harness {

std::size_t LatencyHistogram::bucketIndex(std::uint64_t v) {
    if (v < kLinearLimit) return static_cast<std::size_t>(v);
    const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= kSubBucketBits + 1
    const unsigned shift = msb - kSubBucketBits;
    const std::uint64_t sub = v >> shift;  // in [128, 255]
    return static_cast<std::size_t>(shift) * (std::size_t{1} << kSubBucketBits) + static_cast<std::size_t>(sub);
}

std::uint64_t LatencyHistogram::bucketLow(std::size_t index) {
    if (index < kLinearLimit) return index;
    const std::size_t half = std::size_t{1} << kSubBucketBits;
    const std::size_t shift = (index - half) / half;
    const std::uint64_t sub = index - shift * half;
    return sub << shift;
}

std::uint64_t LatencyHistogram::bucketHigh(std::size_t index) {
    if (index < kLinearLimit) return index;
    const std::size_t half = std::size_t{1} << kSubBucketBits;
    const std::size_t shift = (index - half) / half;
    const std::uint64_t sub = index - shift * half;
    if (sub == 2 * half - 1 && shift + kSubBucketBits + 1 >= 64) return UINT64_MAX;
    return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::record(std::uint64_t v) {
    ++counts_[bucketIndex(v)];
    ++count_;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    sum_ += static_cast<long double>(v);
}

void LatencyHistogram::merge(const LatencyHistogram& o) {
    for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
    sum_ += o.sum_;
}

void LatencyHistogram::reset() { *this = LatencyHistogram{}; }

double LatencyHistogram::meanNs() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

std::uint64_t LatencyHistogram::percentileNs(double p) const {
    if (count_ == 0) return 0;
    p = std::clamp(p, 0.0, 100.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBucketCount; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            const std::uint64_t lo = bucketLow(i), hi = bucketHigh(i);
            const std::uint64_t mid = lo + (hi - lo) / 2;
            return std::clamp(mid, min_, max_);
        }
    }
    return max_;
}

}  // namespace buntime::harness
