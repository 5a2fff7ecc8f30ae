// SPDX-License-Identifier: MIT
// TTL caches in front of manifest parsing and app resolution; the clock is a parameter.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "buntime/base/clock.h"
#include "buntime/router/manifest.h"
#include "buntime/router/resolver.h"
#include "buntime/router/result.h"

namespace buntime::router {

using base::Clock;
using base::TimePoint;

// A map whose entries live `ttl` after insertion (not sliding). ttl 0 disables: put() is
// a no-op and get() always misses. At most `max_entries` entries: when full, expired ones
// are dropped, then everything (keys may come from request URLs). Thread-safe (one mutex).
//
// Revalidation: an entry may carry a stamp of what it was loaded from (stampOf: files and
// directories). lookup() leaves an expired entry in place and returns its stamp; when the
// caller finds the stamp unchanged, renew() serves the value for another ttl instead of a
// reload, up to kMaxRenewals ttls after the load (a bound for filesystems whose timestamps
// are too coarse to show two changes in a row).
template <typename K, typename V>
class TtlCache {
public:
    explicit TtlCache(std::chrono::milliseconds ttl, std::size_t max_entries = 4096)
        : ttl_(ttl), max_entries_(max_entries) {}

    static constexpr int kMaxRenewals = 10;

    struct Found {
        std::optional<V> live;                   // within its ttl
        std::optional<std::string> stale_stamp;  // expired, stored with this stamp
    };

    Found lookup(const K& key, TimePoint now) {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(key);
        if (it == entries_.end()) return {};
        if (now < it->second.expires) return {it->second.value, std::nullopt};
        if (it->second.stamp.empty()) {
            entries_.erase(it);
            return {};
        }
        return {std::nullopt, it->second.stamp};
    }

    // The expired entry's value for another ttl when `stamp` is still its stamp.
    std::optional<V> renew(const K& key, const std::string& stamp, TimePoint now) {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(key);
        if (it == entries_.end() || it->second.stamp != stamp || stamp.empty()) return std::nullopt;
        if (now >= it->second.loaded + kMaxRenewals * ttl_) return std::nullopt;
        it->second.expires = now + ttl_;
        return it->second.value;
    }

    std::optional<V> get(const K& key, TimePoint now) {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(key);
        if (it == entries_.end()) return std::nullopt;
        if (now >= it->second.expires) {
            entries_.erase(it);
            return std::nullopt;
        }
        return it->second.value;
    }

    void put(K key, V value, TimePoint now, std::string stamp = {}) {
        if (ttl_.count() <= 0) return;
        std::lock_guard lock(mutex_);
        if (entries_.size() >= max_entries_ && !entries_.contains(key)) {
            std::erase_if(entries_, [&](const auto& kv) { return now >= kv.second.expires; });
            if (entries_.size() >= max_entries_) entries_.clear();
        }
        entries_.insert_or_assign(std::move(key), Entry{std::move(value), now + ttl_, now, std::move(stamp)});
    }

    void clear() {
        std::lock_guard lock(mutex_);
        entries_.clear();
    }

    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

    std::chrono::milliseconds ttl() const noexcept { return ttl_; }

private:
    struct Entry {
        V value;
        TimePoint expires;
        TimePoint loaded;
        std::string stamp;
    };
    const std::chrono::milliseconds ttl_;
    const std::size_t max_entries_;
    mutable std::mutex mutex_;
    std::map<K, Entry> entries_;
};

// Inode, size, mtime and ctime of each path ("-" when it cannot be stat'ed), following
// symlinks: changes when a file is written or replaced, or a directory's entries change.
// Empty (not renewable) when any of them changed in the last kRacySeconds.
inline constexpr long kRacySeconds = 2;
std::string stampOf(std::initializer_list<std::filesystem::path> paths);

// Parsed manifests keyed by app directory (RUNTIME_WORKER_CONFIG_CACHE_TTL_MS); past the
// TTL an entry whose directory and manifest files are unchanged is renewed, not re-parsed. Errors are
// cached for the TTL like successes: a broken manifest costs one parse per TTL, and a
// fixed one is seen after the TTL (or at once after clear(), SIGHUP). Thread-safe.
// `warn` (optional) gets each warning of a loaded manifest (unknown keys, ...) once per
// version of its file (path, size and mtime): not again on every reload of the same file.
class ConfigCache {
public:
    using Warn = std::function<void(const std::string&)>;
    explicit ConfigCache(std::chrono::milliseconds ttl, Warn warn = {}) : cache_(ttl, 1024), warn_(std::move(warn)) {}

    // Loads dir/manifest.yaml on a miss. The shared Manifest is immutable.
    Result<std::shared_ptr<const Manifest>> get(const std::filesystem::path& dir, TimePoint now);
    void clear() { cache_.clear(); }  // SIGHUP
    std::size_t size() const { return cache_.size(); }
    // Passes the warnings of `m`, loaded from `dir`, to `warn` unless this file version's were.
    void warnOnce(const std::filesystem::path& dir, const Manifest& m);

private:
    TtlCache<std::string, Result<std::shared_ptr<const Manifest>>> cache_;
    Warn warn_;
    std::mutex warned_mutex_;
    std::set<std::string> warned_;  // "path\0size\0mtime" of files whose warnings were passed on
};

// Resolutions keyed by (name, range text as given) (RUNTIME_WORKER_RESOLVER_CACHE_TTL_MS);
// past the TTL a resolution is renewed when no root's listing, the name's directory and
// its manifest changed (a few stats instead of listing every root: 500 apps in a root made
// each re-resolution the slowest request of a round robin).
// A manifest that fails to parse (BadManifest, Syntax, Io) is cached for the TTL like a
// success; other errors (not found, no match, collision…) are not. `resolver` must outlive
// the cache.
// Thread-safe.
class ResolverCache {
public:
    ResolverCache(const Resolver& resolver, std::chrono::milliseconds ttl) : resolver_(resolver), cache_(ttl) {}

    Result<ResolvedApp> resolve(std::string_view name, std::string_view range, TimePoint now);
    void clear() { cache_.clear(); }  // SIGHUP
    std::size_t size() const { return cache_.size(); }

private:
    std::string stampFor(std::string_view name) const;  // every root's part

    const Resolver& resolver_;
    TtlCache<std::string, Result<ResolvedApp>> cache_;
};

}  // namespace buntime::router
