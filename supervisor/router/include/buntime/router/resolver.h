// SPDX-License-Identifier: MIT
// App directories: finds name@version under the worker roots in flat, nested and simple layouts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/router/result.h"
#include "buntime/router/semver.h"

namespace buntime::router {

// An app name: [A-Za-z0-9][A-Za-z0-9._-]*, at most 214 characters (npm's limit). No '@',
// '/', '%', leading dot or underscore ("/_/" is the admin namespace).
bool isValidAppName(std::string_view name) noexcept;

enum class Layout : std::uint8_t {
    Flat,    // root/app@1.2.3/manifest.yaml
    Nested,  // root/app/1.2.3/manifest.yaml
    Simple,  // root/app/manifest.yaml; version = manifest `version` key, else "0.0.0"
};
std::string_view layoutName(Layout layout) noexcept;

// The simple layout's version when the manifest has no `version` key: a valid semver that
// sorts below every real release, so `@latest`, `*` and an empty range pick it.
inline constexpr std::string_view kSimpleDefaultVersion = "0.0.0";

struct ResolvedApp {
    std::string name;
    std::string version;  // as written in the directory name or manifest
    std::filesystem::path dir;
    std::string key;  // "name@version": the pool key
    Layout layout = Layout::Flat;
};

struct AppVersionInfo {
    std::string version;
    std::filesystem::path dir;
    Layout layout = Layout::Flat;
    Error error;  // manifest error or collision with another dir; message empty when fine
};

struct AppInfo {
    std::string name;
    std::vector<AppVersionInfo> versions;  // highest first
    std::vector<Error> errors;             // entries that look like this app but are unusable
};

// Reads the filesystem on every call (cache it with ResolverCache). Immutable after
// construction: resolve() and listApps() are safe to call from several threads.
class Resolver {
public:
    // Roots that name the same directory (after weakly_canonical) are kept once.
    explicit Resolver(std::vector<std::filesystem::path> roots);

    const std::vector<std::filesystem::path>& roots() const noexcept { return roots_; }

    // range empty or "latest" → highest release (prerelease only when nothing else).
    // Errors: InvalidName, InvalidValue (range), NotFound (no such app in any root),
    // NoMatch (versions exist, none satisfies), Collision (the chosen name@version is in
    // two directories; message names both), BadManifest (simple layout whose manifest does
    // not parse, or flat dir with a bad version, when no other candidate exists).
    Result<ResolvedApp> resolve(std::string_view name, std::string_view range) const;
    Result<ResolvedApp> resolve(std::string_view name, const Range& range) const;

    // Every app under every root, sorted by name, each manifest parsed to report errors.
    std::vector<AppInfo> listApps() const;
    // The names of listApps() without reading a manifest: sorted, each once.
    std::vector<std::string> appNames() const;

private:
    std::vector<std::filesystem::path> roots_;
};

}  // namespace buntime::router
