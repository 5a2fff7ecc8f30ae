// SPDX-License-Identifier: MIT
// TTL caches in front of manifest parsing and app resolution; the clock is a parameter.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
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
template <typename K, typename V>
class TtlCache {
public:
    explicit TtlCache(std::chrono::milliseconds ttl, std::size_t max_entries = 4096)
        : ttl_(ttl), max_entries_(max_entries) {}

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

    void put(K key, V value, TimePoint now) {
        if (ttl_.count() <= 0) return;
        std::lock_guard lock(mutex_);
        if (entries_.size() >= max_entries_ && !entries_.contains(key)) {
            std::erase_if(entries_, [&](const auto& kv) { return now >= kv.second.expires; });
            if (entries_.size() >= max_entries_) entries_.clear();
        }
        entries_.insert_or_assign(std::move(key), Entry{std::move(value), now + ttl_});
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
    };
    const std::chrono::milliseconds ttl_;
    const std::size_t max_entries_;
    mutable std::mutex mutex_;
    std::map<K, Entry> entries_;
};

// Parsed manifests keyed by app directory (RUNTIME_WORKER_CONFIG_CACHE_TTL_MS). Errors are
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

// Resolutions keyed by (name, range text as given) (RUNTIME_WORKER_RESOLVER_CACHE_TTL_MS).
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
    const Resolver& resolver_;
    TtlCache<std::string, Result<ResolvedApp>> cache_;
};

}  // namespace buntime::router
