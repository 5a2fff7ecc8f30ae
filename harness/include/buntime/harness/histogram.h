// SPDX-License-Identifier: MIT
// Log-linear latency histogram (HdrHistogram-style): every sample counted, <0.4% relative error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace buntime::harness {

// Records nanosecond values without sampling. Values below 256 ns are exact; above, each
// power-of-two range is split into 128 equal sub-buckets, so a bucket's width is at most
// 1/128 of its lower bound and the reported midpoint is within 1/256 (0.4%) of any sample
// in it. Percentiles are clamped to the exact min/max.
//
// Not thread-safe: one owner records; merge() combines per-thread histograms.
class LatencyHistogram {
public:
    static constexpr unsigned kSubBucketBits = 7;                                        // 128 sub-buckets per octave
    static constexpr std::size_t kLinearLimit = std::size_t{1} << (kSubBucketBits + 1);  // 256
    static constexpr std::size_t kBucketCount =
        (64 - kSubBucketBits) * (std::size_t{1} << kSubBucketBits) + kLinearLimit;

    void record(std::uint64_t valueNs);
    void merge(const LatencyHistogram& other);
    void reset();

    std::uint64_t count() const { return count_; }
    std::uint64_t minNs() const { return count_ == 0 ? 0 : min_; }
    std::uint64_t maxNs() const { return max_; }
    double meanNs() const;
    // p in [0, 100]; the value at rank ceil(p/100 * count) of the sorted samples (0 when empty).
    std::uint64_t percentileNs(double p) const;

    static std::size_t bucketIndex(std::uint64_t valueNs);
    static std::uint64_t bucketLow(std::size_t index);
    static std::uint64_t bucketHigh(std::size_t index);  // inclusive

private:
    std::array<std::uint64_t, kBucketCount> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t min_ = UINT64_MAX;
    std::uint64_t max_ = 0;
    long double sum_ = 0;
};

}  // namespace buntime::harness
