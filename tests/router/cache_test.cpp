// SPDX-License-Identifier: MIT
// TTL caches with a hand-driven clock: expiry, ttl 0 disables, manifest errors are cached
// for the TTL, negative resolutions are not.
#include <doctest/doctest.h>

#include <thread>

#include "buntime/router/cache.h"
#include "temp_dir.h"

using namespace buntime::router;
using buntime::test::TempDir;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

namespace {

const TimePoint t0 = TimePoint{} + std::chrono::hours(1);

}  // namespace

TEST_CASE("TtlCache expiry is exact and not sliding") {
    TtlCache<std::string, int> c(milliseconds(1000));
    c.put("a", 1, t0);
    CHECK(c.get("a", t0) == 1);
    CHECK(c.get("a", t0 + milliseconds(999)) == 1);
    CHECK_FALSE(c.get("a", t0 + milliseconds(1000)).has_value());
    CHECK(c.size() == 0);  // expired entry dropped on lookup
    c.put("b", 2, t0);
    c.put("b", 3, t0 + milliseconds(500));  // re-put refreshes
    CHECK(c.get("b", t0 + milliseconds(1400)) == 3);
    c.clear();
    CHECK_FALSE(c.get("b", t0 + milliseconds(1400)).has_value());
}

TEST_CASE("TtlCache with ttl 0 stores nothing") {
    TtlCache<std::string, int> c(milliseconds(0));
    c.put("a", 1, t0);
    CHECK(c.size() == 0);
    CHECK_FALSE(c.get("a", t0).has_value());
}

TEST_CASE("TtlCache is bounded") {
    TtlCache<int, int> c(milliseconds(1000), 4);
    for (int i = 0; i < 4; ++i) c.put(i, i, t0);
    c.put(100, 100, t0 + milliseconds(1500));  // all four expired: purged, not cleared wholesale
    CHECK(c.size() == 1);
    for (int i = 0; i < 3; ++i) c.put(i, i, t0 + milliseconds(1500));
    CHECK(c.size() == 4);
    c.put(7, 7, t0 + milliseconds(1500));  // full of live entries: starts over
    CHECK(c.size() == 1);
    CHECK(c.get(7, t0 + milliseconds(1500)) == 7);
}

TEST_CASE("ConfigCache serves the cached manifest until the TTL passes") {
    TempDir t;
    t.write("app/manifest.yaml", "maxRequests: 1\n");
    ConfigCache cache(milliseconds(1000));
    auto first = cache.get(t.root() / "app", t0);
    REQUIRE(first);
    CHECK((*first)->config.max_requests == 1);

    t.write("app/manifest.yaml", "maxRequests: 2\n");
    auto cached = cache.get(t.root() / "app", t0 + milliseconds(999));
    REQUIRE(cached);
    CHECK((*cached)->config.max_requests == 1);
    CHECK(cached->get() == first->get());

    auto fresh = cache.get(t.root() / "app", t0 + milliseconds(1000));
    REQUIRE(fresh);
    CHECK((*fresh)->config.max_requests == 2);

    t.write("app/manifest.yaml", "maxRequests: 3\n");
    cache.clear();
    auto reloaded = cache.get(t.root() / "app", t0 + milliseconds(1001));
    REQUIRE(reloaded);
    CHECK((*reloaded)->config.max_requests == 3);
}

TEST_CASE("ConfigCache with ttl 0 reads the file every time") {
    TempDir t;
    t.write("app/manifest.yaml", "maxRequests: 1\n");
    ConfigCache cache(milliseconds(0));
    CHECK((*cache.get(t.root() / "app", t0))->config.max_requests == 1);
    t.write("app/manifest.yaml", "maxRequests: 2\n");
    CHECK((*cache.get(t.root() / "app", t0))->config.max_requests == 2);
    CHECK(cache.size() == 0);
}

TEST_CASE("ConfigCache caches errors for the TTL, like successes") {
    TempDir t;
    t.write("app/manifest.yaml", "timeout: nonsense\n");
    ConfigCache cache(milliseconds(1000));
    auto bad = cache.get(t.root() / "app", t0);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::BadManifest);
    t.write("app/manifest.yaml", "timeout: 2s\n");
    // Within the TTL the failure is answered from the cache: the file is not parsed again.
    auto again = cache.get(t.root() / "app", t0 + milliseconds(999));
    REQUIRE_FALSE(again);
    CHECK(again.error().message == bad.error().message);
    auto good = cache.get(t.root() / "app", t0 + milliseconds(1000));
    REQUIRE(good);
    CHECK((*good)->config.timeout == milliseconds(2000));
    // A directory without a manifest runs with the defaults, as in the Bun-based runtime.
    auto missing = cache.get(t.root() / "none", t0);
    REQUIRE(missing);
    CHECK((*missing)->config.timeout == WorkerConfig{}.timeout);
    CHECK(cache.size() == 2);

    // SIGHUP (clear) forgets a cached failure at once.
    t.write("app2/manifest.yaml", "timeout: nonsense\n");
    CHECK_FALSE(cache.get(t.root() / "app2", t0));
    t.write("app2/manifest.yaml", "timeout: 3s\n");
    cache.clear();
    CHECK(cache.get(t.root() / "app2", t0 + milliseconds(1)));
}

TEST_CASE("ResolverCache caches a broken simple-layout manifest for the TTL") {
    TempDir t;
    t.write("r/app/manifest.yaml", "timeout: nonsense\n");
    Resolver resolver({t.root() / "r"});
    ResolverCache cache(resolver, milliseconds(1000));
    auto bad = cache.resolve("app", "", t0);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::BadManifest);
    t.write("r/app/manifest.yaml", "timeout: 2s\n");
    CHECK_FALSE(cache.resolve("app", "", t0 + milliseconds(999)));
    CHECK(cache.resolve("app", "", t0 + milliseconds(1000)));
}

TEST_CASE("ResolverCache keeps a resolution until the TTL passes") {
    TempDir t;
    t.write("r/app@1.0.0/manifest.yaml", "");
    Resolver resolver({t.root() / "r"});
    ResolverCache cache(resolver, milliseconds(1000));
    CHECK(cache.resolve("app", "", t0)->version == "1.0.0");

    t.write("r/app@1.1.0/manifest.yaml", "");
    CHECK(cache.resolve("app", "", t0 + milliseconds(999))->version == "1.0.0");
    CHECK(cache.resolve("app", "^1", t0 + milliseconds(999))->version == "1.1.0");  // other key
    CHECK(cache.resolve("app", "", t0 + milliseconds(1000))->version == "1.1.0");

    t.write("r/app@1.2.0/manifest.yaml", "");
    cache.clear();
    CHECK(cache.resolve("app", "", t0 + milliseconds(1001))->version == "1.2.0");
}

TEST_CASE("ResolverCache with ttl 0 resolves every time") {
    TempDir t;
    t.write("r/app@1.0.0/manifest.yaml", "");
    Resolver resolver({t.root() / "r"});
    ResolverCache cache(resolver, milliseconds(0));
    CHECK(cache.resolve("app", "", t0)->version == "1.0.0");
    t.write("r/app@2.0.0/manifest.yaml", "");
    CHECK(cache.resolve("app", "", t0)->version == "2.0.0");
    CHECK(cache.size() == 0);
}

TEST_CASE("ResolverCache does not cache negative results") {
    TempDir t;
    Resolver resolver({t.root() / "r"});
    ResolverCache cache(resolver, milliseconds(1000));
    auto missing = cache.resolve("late", "", t0);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::NotFound);
    t.write("r/late@1.0.0/manifest.yaml", "");
    auto found = cache.resolve("late", "", t0 + milliseconds(1));
    REQUIRE(found);
    CHECK(found->key == "late@1.0.0");

    CHECK_FALSE(cache.resolve("late", "^2", t0 + milliseconds(2)));
    t.write("r/late@2.0.0/manifest.yaml", "");
    CHECK(cache.resolve("late", "^2", t0 + milliseconds(3))->version == "2.0.0");
}

TEST_CASE("TtlCache renews an expired entry only with its own stamp, and not forever") {
    TtlCache<std::string, int> c(milliseconds(1000));
    c.put("a", 1, t0, "s1");
    CHECK(c.lookup("a", t0).live == 1);
    auto stale = c.lookup("a", t0 + milliseconds(1000));
    CHECK_FALSE(stale.live);
    CHECK(stale.stale_stamp == "s1");
    CHECK_FALSE(c.renew("a", "s2", t0 + milliseconds(1000)));  // changed: the caller reloads
    CHECK(c.renew("a", "s1", t0 + milliseconds(1000)) == 1);
    CHECK(c.lookup("a", t0 + milliseconds(1999)).live == 1);  // another ttl from the renewal
    // At most kMaxRenewals ttls after the load.
    const auto late = t0 + milliseconds(1000) * decltype(c)::kMaxRenewals;
    CHECK_FALSE(c.renew("a", "s1", late));
    // An entry without a stamp expires as before.
    c.put("b", 2, t0);
    CHECK_FALSE(c.lookup("b", t0 + milliseconds(1000)).stale_stamp);
    CHECK_FALSE(c.renew("b", "", t0 + milliseconds(1000)));
}

TEST_CASE("stampOf changes with a write, a replacement or a new entry, and is empty for files changed just now") {
    TempDir t;
    t.write("app/manifest.yaml", "maxRequests: 1\n");
    const auto dir = t.root() / "app", file = dir / "manifest.yaml";
    CHECK(stampOf({dir, file}).empty());  // racy: written a moment ago
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 * kRacySeconds + 1100));
    const auto before = stampOf({dir, file});
    REQUIRE_FALSE(before.empty());
    CHECK(stampOf({dir, file}) == before);
    CHECK(stampOf({dir, dir / "missing"}) != stampOf({dir, file}));
    t.write("app/other", "x");  // the directory's entries changed
    CHECK(stampOf({dir, file}) != before);
}

TEST_CASE("past the TTL, an unchanged manifest and resolution are renewed, a changed one reloaded") {
    TempDir t;
    t.write("r/app/manifest.yaml", "version: 1.0.0\nmaxRequests: 1\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 * kRacySeconds + 1100));
    ConfigCache config(milliseconds(1000));
    Resolver resolver({t.root() / "r"});
    ResolverCache resolved(resolver, milliseconds(1000));
    auto first = config.get(t.root() / "r" / "app", t0);
    REQUIRE(first);
    auto app = resolved.resolve("app", "", t0);
    REQUIRE(app);
    // Unchanged: the same parsed manifest, not a new parse.
    auto renewed = config.get(t.root() / "r" / "app", t0 + milliseconds(1500));
    REQUIRE(renewed);
    CHECK(renewed->get() == first->get());
    CHECK(resolved.resolve("app", "", t0 + milliseconds(1500))->version == "1.0.0");

    // Changed: seen at the next expiry, as without renewal.
    t.write("r/app/manifest.yaml", "version: 2.0.0\nmaxRequests: 2\n");
    auto changed = config.get(t.root() / "r" / "app", t0 + milliseconds(2600));
    REQUIRE(changed);
    CHECK((*changed)->config.max_requests == 2);
    CHECK(resolved.resolve("app", "", t0 + milliseconds(2600))->version == "2.0.0");
    t.write("r/app@3.0.0/manifest.yaml", "");  // a new version directory in the root
    CHECK(resolved.resolve("app", "", t0 + milliseconds(3700))->version == "3.0.0");
}
