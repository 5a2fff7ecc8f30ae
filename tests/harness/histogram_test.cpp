// SPDX-License-Identifier: MIT
// LatencyHistogram: bucket arithmetic and percentile accuracy against exact sorted samples.
#include <doctest/doctest.h>

#include "buntime/harness/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using buntime::harness::LatencyHistogram;

namespace {

std::uint64_t exactPercentile(const std::vector<std::uint64_t>& sorted, double p) {
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<std::uint64_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

double relErr(std::uint64_t got, std::uint64_t want) {
    if (want == 0) return got == 0 ? 0.0 : 1.0;
    return std::fabs(static_cast<double>(got) - static_cast<double>(want)) / static_cast<double>(want);
}

}  // namespace

TEST_CASE("values below 256 ns are exact") {
    LatencyHistogram h;
    for (std::uint64_t v = 0; v < 256; ++v) h.record(v);
    CHECK(h.count() == 256);
    CHECK(h.percentileNs(0) == 0);
    CHECK(h.percentileNs(50) == 127);
    CHECK(h.percentileNs(100) == 255);
    CHECK(h.minNs() == 0);
    CHECK(h.maxNs() == 255);
}

TEST_CASE("every bucket is narrower than 1% of its lower bound and contains its values") {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 200000; ++i) {
        const unsigned bits = static_cast<unsigned>(rng() % 64);
        const std::uint64_t v = bits == 0 ? 0 : (rng() >> (64 - bits));
        const std::size_t idx = LatencyHistogram::bucketIndex(v);
        REQUIRE(idx < LatencyHistogram::kBucketCount);
        const std::uint64_t lo = LatencyHistogram::bucketLow(idx), hi = LatencyHistogram::bucketHigh(idx);
        REQUIRE(lo <= v);
        REQUIRE(v <= hi);
        if (lo >= 256) REQUIRE(static_cast<double>(hi - lo + 1) / static_cast<double>(lo) <= 1.0 / 128.0);
    }
    // Indexes are contiguous: the bucket after each one starts right after it.
    for (std::size_t i = 0; i + 1 < 7424; ++i)
        REQUIRE(LatencyHistogram::bucketHigh(i) + 1 == LatencyHistogram::bucketLow(i + 1));
    CHECK(LatencyHistogram::bucketIndex(UINT64_MAX) < LatencyHistogram::kBucketCount);
}

TEST_CASE("percentiles of 2M log-uniform samples (1 us .. 10 s) are within 1% of the exact values") {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> exp10(3.0, 10.0);  // 10^3 ns .. 10^10 ns
    std::vector<std::uint64_t> samples(2'000'000);
    LatencyHistogram h;
    long double sum = 0;
    for (auto& s : samples) {
        s = static_cast<std::uint64_t>(std::pow(10.0, exp10(rng)));
        h.record(s);
        sum += s;
    }
    std::sort(samples.begin(), samples.end());
    for (double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 99.999, 100.0}) {
        CAPTURE(p);
        CHECK(relErr(h.percentileNs(p), exactPercentile(samples, p)) <= 0.01);
    }
    CHECK(h.count() == samples.size());
    CHECK(h.minNs() == samples.front());
    CHECK(h.maxNs() == samples.back());
    CHECK(h.meanNs() == doctest::Approx(static_cast<double>(sum / samples.size())).epsilon(1e-9));
}

TEST_CASE("a narrow latency band (typical warm requests) keeps 1% accuracy") {
    std::mt19937_64 rng(3);
    std::normal_distribution<double> d(300'000.0, 40'000.0);  // ~0.3 ms
    std::vector<std::uint64_t> samples;
    LatencyHistogram h;
    for (int i = 0; i < 500'000; ++i) {
        const auto v = static_cast<std::uint64_t>(std::max(1.0, d(rng)));
        samples.push_back(v);
        h.record(v);
    }
    std::sort(samples.begin(), samples.end());
    for (double p : {50.0, 95.0, 99.0, 99.9}) {
        CAPTURE(p);
        CHECK(relErr(h.percentileNs(p), exactPercentile(samples, p)) <= 0.01);
    }
}

TEST_CASE("large counts via merge: a billion samples, p99 exact to 1%") {
    LatencyHistogram fast, slow;
    for (int i = 0; i < 99; ++i) fast.record(1'000'000);  // 1 ms
    slow.record(100'000'000);                             // 100 ms
    LatencyHistogram total;
    total.merge(fast);
    total.merge(slow);  // 99:1 mix, 100 samples
    for (int i = 0; i < 23; ++i) {
        LatencyHistogram copy = total;
        total.merge(copy);  // doubles every count
    }
    CHECK(total.count() == 100ull << 23);
    CHECK(relErr(total.percentileNs(99), 1'000'000) <= 0.01);
    CHECK(relErr(total.percentileNs(99.5), 100'000'000) <= 0.01);
    CHECK(relErr(total.percentileNs(50), 1'000'000) <= 0.01);
    CHECK(total.meanNs() == doctest::Approx(1'990'000.0).epsilon(1e-6));
}

TEST_CASE("empty and reset histograms report zeros") {
    LatencyHistogram h;
    CHECK(h.percentileNs(99) == 0);
    CHECK(h.meanNs() == 0.0);
    CHECK(h.minNs() == 0);
    h.record(5000);
    CHECK(h.percentileNs(50) == 5000);  // clamped to exact min/max
    h.reset();
    CHECK(h.count() == 0);
    CHECK(h.maxNs() == 0);
}
