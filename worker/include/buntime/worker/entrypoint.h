// SPDX-License-Identifier: MIT
// Finds an app's entrypoint inside its directory and refuses paths that escape it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace buntime::worker {

enum class EntrypointKind { Static, SharedObject, Executable };

std::string_view kindName(EntrypointKind kind) noexcept;  // "static", "so", "exec"

struct Entrypoint {
    EntrypointKind kind = EntrypointKind::Static;
    std::string app_dir;      // realpath of the app directory
    std::string path;         // realpath of the entrypoint file (inside app_dir)
    std::string static_root;  // Static: directory of the html file
    std::string index_name;   // Static: file name of the html file (usually index.html)
};

struct EntrypointResult {
    std::optional<Entrypoint> entry;  // set on success
    std::string error;                // human-readable reason otherwise
};

// `requested` empty: the first of index.html, app.so, app that exists. Otherwise that
// relative path (.html → static, .so → dlopen, other → executable). A path that is
// absolute, contains "..", or resolves (through symlinks) outside app_dir is refused.
EntrypointResult resolveEntrypoint(const std::string& app_dir, const std::string& requested);

}  // namespace buntime::worker
