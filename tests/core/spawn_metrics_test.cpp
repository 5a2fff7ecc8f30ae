// SPDX-License-Identifier: MIT
// SpawnMetrics: each spawn-to-ready lands in the right bucket of the right (path, kind) series.
#include <doctest/doctest.h>

#include <cmath>

#include "spawn_metrics.h"

using namespace buntime::supervisor;

namespace {

// The cumulative count at bound `le` (seconds) of a series.
std::uint64_t at(const buntime::admin::SpawnSeriesView& s, double le) {
    for (const auto& b : s.buckets)
        if (std::abs(b.le - le) < 1e-12) return b.count;
    FAIL("no bucket le=", le);
    return 0;
}

}  // namespace

TEST_CASE("no spawn yet: no series") { CHECK(SpawnMetrics{}.view().empty()); }

TEST_CASE("an observation counts in the first bucket whose bound is not below it, and in every later one") {
    SpawnMetrics m;
    m.observeSpawn("so", SpawnPath::Exec, 0.0007);
    const auto v = m.view();
    REQUIRE(v.size() == 1);
    CHECK(v[0].path == "exec");
    CHECK(v[0].kind == "so");
    CHECK(v[0].count == 1);
    CHECK(v[0].sum == doctest::Approx(0.0007));
    REQUIRE(v[0].buckets.size() == SpawnMetrics::kBucketSeconds.size());
    CHECK(at(v[0], 0.0005) == 0);
    CHECK(at(v[0], 0.001) == 1);
    CHECK(at(v[0], 10.0) == 1);
    for (std::size_t i = 1; i < v[0].buckets.size(); ++i) {
        CHECK(v[0].buckets[i].le > v[0].buckets[i - 1].le);
        CHECK(v[0].buckets[i].count >= v[0].buckets[i - 1].count);
    }
}

TEST_CASE("a bound is inclusive; beyond the last bound only count and sum grow (the +Inf bucket)") {
    SpawnMetrics m;
    m.observeSpawn("static", SpawnPath::Exec, 0.005);
    m.observeSpawn("static", SpawnPath::Exec, 42.0);
    const auto v = m.view();
    REQUIRE(v.size() == 1);
    CHECK(at(v[0], 0.004) == 0);
    CHECK(at(v[0], 0.005) == 1);
    CHECK(at(v[0], 10.0) == 1);
    CHECK(v[0].count == 2);
    CHECK(v[0].sum == doctest::Approx(42.005));
}

TEST_CASE("path and kind are separate series, sorted by path then kind") {
    SpawnMetrics m;
    m.observeSpawn("so", SpawnPath::Fork, 0.0012);
    m.observeSpawn("js", SpawnPath::Exec, 0.2);
    m.observeSpawn("so", SpawnPath::Exec, 0.012);
    m.observeSpawn("so", SpawnPath::Exec, 0.013);
    const auto v = m.view();
    REQUIRE(v.size() == 3);
    CHECK((v[0].path == "exec" && v[0].kind == "js" && v[0].count == 1));
    CHECK((v[1].path == "exec" && v[1].kind == "so" && v[1].count == 2));
    CHECK((v[2].path == "fork" && v[2].kind == "so" && v[2].count == 1));
    CHECK(at(v[1], 0.01) == 0);
    CHECK(at(v[1], 0.015) == 2);
    CHECK(at(v[2], 0.001) == 0);
    CHECK(at(v[2], 0.0015) == 1);
    CHECK(at(v[0], 0.15) == 0);
    CHECK(at(v[0], 0.25) == 1);
}

TEST_CASE("a negative or NaN duration counts as 0, in the first bucket") {
    SpawnMetrics m;
    m.observeSpawn("so", SpawnPath::Exec, -1.0);
    m.observeSpawn("so", SpawnPath::Exec, std::nan(""));
    const auto v = m.view();
    REQUIRE(v.size() == 1);
    CHECK(at(v[0], 0.0005) == 2);
    CHECK(v[0].sum == 0.0);
}

TEST_CASE("spawnPathName") {
    CHECK(spawnPathName(SpawnPath::Exec) == "exec");
    CHECK(spawnPathName(SpawnPath::Fork) == "fork");
}
