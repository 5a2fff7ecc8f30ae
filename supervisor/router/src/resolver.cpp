// SPDX-License-Identifier: MIT
// Directory scanning for the three app layouts, version selection and collision detection.
#include "buntime/router/resolver.h"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "buntime/router/manifest.h"

namespace fs = std::filesystem;

namespace buntime::router {

namespace {

struct Candidate {
    std::string version_text;
    Version version;  // unset for the "latest" tag
    fs::path dir;
    Layout layout = Layout::Flat;
    bool tag = false;  // app@latest/ or app/latest/: the seed's "latest" tag directory
};

constexpr std::string_view kLatestTag = "latest";

bool isDir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

// The simple layout needs a manifest (.yaml or .yml) or a package.json, as in the seed.
bool looksLikeSimpleApp(const fs::path& dir) {
    std::error_code ec;
    return findManifest(dir) || fs::is_regular_file(dir / "package.json", ec);
}

// Names of the entries of a directory; empty on any error (a missing root is not fatal).
std::vector<std::string> listDir(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    fs::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) out.push_back(it->path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

// Every candidate directory for `name` under one root; unusable entries go to `errors`.
void scanName(const fs::path& root, const std::string& name, std::vector<Candidate>& out, std::vector<Error>& errors) {
    const std::string prefix = name + '@';
    for (const std::string& entry : listDir(root)) {
        if (!entry.starts_with(prefix)) continue;
        fs::path dir = root / entry;
        if (!isDir(dir)) continue;  // a versioned directory needs no manifest (defaults apply)
        if (std::string_view(entry).substr(prefix.size()) == kLatestTag) {
            out.push_back(Candidate{std::string(kLatestTag), {}, dir, Layout::Flat, true});
            continue;
        }
        auto v = Version::parse(std::string_view(entry).substr(prefix.size()));
        if (!v) {
            errors.push_back(Error{v.error().code, dir.string() + ": " + v.error().message, dir.string(), {}});
            continue;
        }
        out.push_back(Candidate{entry.substr(prefix.size()), std::move(*v), dir, Layout::Flat});
    }
    fs::path app_dir = root / name;
    if (!isDir(app_dir)) return;
    if (looksLikeSimpleApp(app_dir)) {
        auto m = loadAppManifest(app_dir);
        if (!m) {
            errors.push_back(m.error());
        } else {
            std::string text = m->config.version.empty() ? std::string(kSimpleDefaultVersion) : m->config.version;
            auto v = Version::parse(text);  // validated by the manifest parser already
            if (v) out.push_back(Candidate{text, std::move(*v), app_dir, Layout::Simple});
        }
    }
    for (const std::string& entry : listDir(app_dir)) {
        fs::path dir = app_dir / entry;
        if (!isDir(dir)) continue;
        if (entry == kLatestTag) {
            out.push_back(Candidate{entry, {}, dir, Layout::Nested, true});
            continue;
        }
        if (auto v = Version::parse(entry)) out.push_back(Candidate{entry, std::move(*v), dir, Layout::Nested});
    }
}

std::string keyOf(const std::string& name, const std::string& version) { return name + '@' + version; }

}  // namespace

bool isValidAppName(std::string_view name) noexcept {
    if (name.empty() || name.size() > 214) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (!alnum(name[0])) return false;
    return std::all_of(name.begin() + 1, name.end(),
                       [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

std::string_view layoutName(Layout layout) noexcept {
    switch (layout) {
    case Layout::Flat: return "flat";
    case Layout::Nested: return "nested";
    case Layout::Simple: return "simple";
    }
    return "unknown";
}

Resolver::Resolver(std::vector<fs::path> roots) {
    std::set<fs::path> seen;
    for (auto& root : roots) {
        std::error_code ec;
        fs::path canon = fs::weakly_canonical(root, ec);
        if (ec) canon = root.lexically_normal();
        if (seen.insert(canon).second) roots_.push_back(std::move(root));
    }
}

Result<ResolvedApp> Resolver::resolve(std::string_view name, std::string_view range) const {
    auto r = Range::parse(range);
    if (!r) return r.error();
    return resolve(name, *r);
}

Result<ResolvedApp> Resolver::resolve(std::string_view name_view, const Range& range) const {
    if (!isValidAppName(name_view))
        return makeError(ErrorCode::InvalidName, "invalid app name \"" + std::string(name_view) + '"');
    const std::string name(name_view);
    std::vector<Candidate> candidates;
    std::vector<Error> errors;
    for (const auto& root : roots_) scanName(root, name, candidates, errors);

    // The seed's rule: no range or "latest" takes the "latest" tag directory when there is one.
    const Candidate* tag = nullptr;
    if (range.isLatest()) {
        for (const auto& c : candidates) {
            if (!c.tag) continue;
            if (tag)
                return makeError(ErrorCode::Collision, "app " + keyOf(name, c.version_text) +
                                                           " found in two directories: " + tag->dir.string() + " and " +
                                                           c.dir.string());
            tag = &c;
        }
        if (tag) return ResolvedApp{name, tag->version_text, tag->dir, keyOf(name, tag->version_text), tag->layout};
    }
    std::vector<Version> versions;
    versions.reserve(candidates.size());
    for (const auto& c : candidates)
        if (!c.tag) versions.push_back(c.version);
    // Prereleases match ranges like any version, as the seed's includePrerelease.
    auto best = bestMatch(range, versions, /*include_prerelease=*/true);
    if (!best) {
        if (candidates.empty() && !errors.empty()) {
            Error e = errors.front();
            e.code = ErrorCode::BadManifest;
            return e;
        }
        if (candidates.empty()) return makeError(ErrorCode::NotFound, "app \"" + name + "\" not found");
        return makeError(ErrorCode::NoMatch, "no version of \"" + name + "\" satisfies \"" + range.text() + '"');
    }
    // Equal precedence but different text (build metadata) are distinct keys; pick the
    // highest text for determinism, then look for a second directory with the same key.
    const Candidate* chosen = nullptr;
    for (const auto& c : candidates)
        if (!c.tag && c.version == *best && (!chosen || c.version_text > chosen->version_text)) chosen = &c;
    for (const auto& c : candidates) {
        if (&c != chosen && c.version_text == chosen->version_text)
            return makeError(ErrorCode::Collision, "app " + keyOf(name, chosen->version_text) +
                                                       " found in two directories: " + chosen->dir.string() + " and " +
                                                       c.dir.string());
    }
    return ResolvedApp{name, chosen->version_text, chosen->dir, keyOf(name, chosen->version_text), chosen->layout};
}

std::vector<std::string> Resolver::appNames() const {
    std::set<std::string> names;
    for (const auto& root : roots_) {
        for (const std::string& entry : listDir(root)) {
            std::string name = entry.substr(0, entry.find('@'));
            if (isValidAppName(name) && isDir(root / entry)) names.insert(name);
        }
    }
    return {names.begin(), names.end()};
}

std::vector<AppInfo> Resolver::listApps() const {
    const std::vector<std::string> names = appNames();
    std::vector<AppInfo> apps;
    for (const auto& name : names) {
        std::vector<Candidate> candidates;
        AppInfo info;
        info.name = name;
        for (const auto& root : roots_) scanName(root, name, candidates, info.errors);
        if (candidates.empty() && info.errors.empty()) continue;
        std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
            if (a.tag != b.tag) return a.tag;  // "latest" first, as the seed lists it
            if (auto c = compare(a.version, b.version); c != 0) return c > 0;
            return a.version_text > b.version_text;
        });
        std::map<std::string, std::vector<std::string>> dirs_by_version;
        for (const auto& c : candidates) dirs_by_version[c.version_text].push_back(c.dir.string());
        for (const auto& c : candidates) {
            AppVersionInfo v{c.version_text, c.dir, c.layout, {}};
            const auto& dirs = dirs_by_version[c.version_text];
            if (dirs.size() > 1) {
                v.error = Error{ErrorCode::Collision, "collision: " + keyOf(name, c.version_text) + " also in", {}, {}};
                for (const auto& d : dirs)
                    if (d != c.dir.string()) v.error.message += ' ' + d;
            } else if (c.layout != Layout::Simple) {  // simple manifests were parsed by the scan
                if (auto m = loadAppManifest(c.dir); !m) v.error = m.error();
            }
            info.versions.push_back(std::move(v));
        }
        apps.push_back(std::move(info));
    }
    return apps;
}

}  // namespace buntime::router
