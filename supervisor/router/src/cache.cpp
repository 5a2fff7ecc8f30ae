// SPDX-License-Identifier: MIT
// Config and resolver caches: look up, load on a miss, store only successes.
#include "buntime/router/cache.h"

namespace buntime::router {

Result<std::shared_ptr<const Manifest>> ConfigCache::get(const std::filesystem::path& dir, TimePoint now) {
    std::string key = dir.string();
    if (auto hit = cache_.get(key, now)) return std::move(*hit);
    // Parsed outside the cache lock: two threads missing together both parse, harmlessly.
    auto m = loadAppManifest(dir);
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
