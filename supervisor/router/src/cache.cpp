// SPDX-License-Identifier: MIT
// Config and resolver caches: look up, load on a miss, store only successes.
#include "buntime/router/cache.h"

#include <charconv>
#include <cstring>

namespace buntime::router {

std::chrono::milliseconds parseTtlMs(const char* value, std::chrono::milliseconds fallback) {
    if (value == nullptr || *value == '\0') return fallback;
    std::int64_t ms = 0;
    const char* end = value + std::strlen(value);
    auto [ptr, ec] = std::from_chars(value, end, ms);
    if (ec != std::errc{} || ptr != end || ms < 0) return fallback;
    return std::chrono::milliseconds(ms);
}

Result<std::shared_ptr<const Manifest>> ConfigCache::get(const std::filesystem::path& dir, TimePoint now) {
    std::string key = dir.string();
    if (auto hit = cache_.get(key, now)) return std::move(*hit);
    // Parsed outside the cache lock: two threads missing together both parse, harmlessly.
    auto m = loadManifest(dir / kManifestFile);
    if (!m) return m.error();
    auto shared = std::make_shared<const Manifest>(std::move(*m));
    cache_.put(std::move(key), shared, now);
    return shared;
}

Result<ResolvedApp> ResolverCache::resolve(std::string_view name, std::string_view range, TimePoint now) {
    std::string key;
    key.reserve(name.size() + range.size() + 1);
    key.append(name).push_back('\0');
    key.append(range);
    if (auto hit = cache_.get(key, now)) return std::move(*hit);
    auto r = resolver_.resolve(name, range);
    if (r) cache_.put(std::move(key), r.value(), now);
    return r;
}

}  // namespace buntime::router
