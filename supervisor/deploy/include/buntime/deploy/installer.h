// SPDX-License-Identifier: MIT
// Installing an uploaded app into a worker directory as name/version/, atomically, and
// moving installed versions out of the way for removal.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/deploy/archive.h"
#include "buntime/router/resolver.h"

namespace buntime::deploy {

struct Installed {
    std::string name;
    std::string version;
    std::filesystem::path dir;  // <root>/<name>/<version>
    bool replaced = false;      // an existing name/version was swapped out (?replace=1)
};

// The first directory of `roots` that exists and this process may write; empty when none.
std::filesystem::path writableRoot(const std::vector<std::filesystem::path>& roots);

// Where an app's name and version come from: manifest.yaml (or .yml) `name`/`version`, else
// package.json's. Both must be present; the name a valid app name, the version semver.
// The manifest must parse with the router's own parser and limits.
base::Expected<std::pair<std::string, std::string>, DeployError> appIdentity(const std::filesystem::path& app_dir);

// Unpacks `archive` (tar.gz or zip) into a temporary directory under the first writable
// root, finds the app (files at the archive's root or under one top directory), validates
// its manifest, fsyncs every file and directory, and renames it to <root>/<name>/<version>.
// An existing version: 409 unless `replace` (then swapped in one renameat2 exchange); the
// same name@version in another directory (a flat layout, another root): 409. `apps` is the
// router's listApps(), used for that check. Blocking I/O: call it off the event loop.
base::Expected<Installed, DeployError> install(std::string_view archive,
                                               const std::vector<std::filesystem::path>& roots,
                                               const std::vector<router::AppInfo>& apps, bool replace,
                                               const ExtractLimits& limits = {});

// Renames `dir` into a fresh "<parent>/.buntime-trash-XXXXXX/" (invisible to the router: not a
// valid app name) and returns the new path, to delete later with removeTree.
base::Expected<std::filesystem::path, DeployError> moveToTrash(const std::filesystem::path& dir);

// rm -rf, never following symlinks; errors are ignored (logged by the caller if it likes).
void removeTree(const std::filesystem::path& dir) noexcept;

}  // namespace buntime::deploy
