// SPDX-License-Identifier: MIT
// Config and resolver caches: look up, load on a miss, store the result (error or not).
#include "buntime/router/cache.h"

#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <string>

namespace buntime::router {

std::string stampOf(std::initializer_list<std::filesystem::path> paths) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    std::string out;
    for (const auto& p : paths) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0) {
            out += "-;";
            continue;
        }
        // Changed a moment ago: a second change within the timestamps' granularity would
        // leave the same stamp (git's "racy" case), so this load is not renewable.
        if (std::max(st.st_mtim.tv_sec, st.st_ctim.tv_sec) + kRacySeconds >= now.tv_sec) return {};
        out += std::to_string(st.st_ino) + ' ' + std::to_string(st.st_size) + ' ' + std::to_string(st.st_mtim.tv_sec) +
               '.' + std::to_string(st.st_mtim.tv_nsec) + ' ' + std::to_string(st.st_ctim.tv_sec) + '.' +
               std::to_string(st.st_ctim.tv_nsec) + ';';
    }
    return out;
}

Result<std::shared_ptr<const Manifest>> ConfigCache::get(const std::filesystem::path& dir, TimePoint now) {
    std::string key = dir.string();
    auto found = cache_.lookup(key, now);
    if (found.live) return std::move(*found.live);
    // Taken before the load: a change while parsing shows at the next expiry.
    std::string stamp = stampOf({dir, dir / kManifestFile, dir / kManifestFileYml});
    if (found.stale_stamp == stamp)
        if (auto renewed = cache_.renew(key, stamp, now)) return std::move(*renewed);
    // Parsed outside the cache lock: two threads missing together both parse, harmlessly.
    // A failure is kept for the TTL too, so a broken manifest is not re-read per request.
    auto m = loadAppManifest(dir);
    if (m) warnOnce(dir, *m);
    Result<std::shared_ptr<const Manifest>> result =
        m ? Result<std::shared_ptr<const Manifest>>(std::make_shared<const Manifest>(std::move(*m)))
          : Result<std::shared_ptr<const Manifest>>(std::move(m).error());
    cache_.put(std::move(key), result, now, std::move(stamp));
    return result;
}

void ConfigCache::warnOnce(const std::filesystem::path& dir, const Manifest& m) {
    if (!warn_ || m.warnings.empty()) return;
    auto file = findManifest(dir);
    if (!file) return;
    std::error_code ec;
    const auto size = std::filesystem::file_size(*file, ec);
    const auto mtime = std::filesystem::last_write_time(*file, ec).time_since_epoch().count();
    std::string key = file->string();
    key.push_back('\0');
    key += std::to_string(size) + '\0' + std::to_string(mtime);
    {
        std::lock_guard lock(warned_mutex_);
        if (warned_.size() >= 4096) warned_.clear();  // bounded: at worst a warning repeats
        if (!warned_.insert(std::move(key)).second) return;
    }
    for (const auto& w : m.warnings) warn_(w);
}

Result<ResolvedApp> ResolverCache::resolve(std::string_view name, std::string_view range, TimePoint now) {
    std::string key;
    key.reserve(name.size() + range.size() + 1);
    key.append(name).push_back('\0');
    key.append(range);
    if (!isValidAppName(name)) return resolver_.resolve(name, range);  // an error, never cached
    auto found = cache_.lookup(key, now);
    if (found.live) return std::move(*found.live);
    std::string stamp = stampFor(name);
    if (found.stale_stamp == stamp)
        if (auto renewed = cache_.renew(key, stamp, now)) return std::move(*renewed);
    auto r = resolver_.resolve(name, range);
    // Manifest failures cost a parse: kept for the TTL. "Not found" and "no match" are
    // not, so an app deployed a moment ago is seen on the next request.
    const bool manifest_failure = !r && (r.error().code == ErrorCode::BadManifest ||
                                         r.error().code == ErrorCode::Syntax || r.error().code == ErrorCode::Io);
    if (r || manifest_failure) cache_.put(std::move(key), r, now, std::move(stamp));
    return r;
}

std::string ResolverCache::stampFor(std::string_view name) const {
    std::string out;
    for (const auto& root : resolver_.roots()) {
        const auto dir = root / std::string(name);
        out += stampOf({root, dir, dir / kManifestFile, dir / kManifestFileYml, dir / "package.json"});
    }
    return out;
}

}  // namespace buntime::router
