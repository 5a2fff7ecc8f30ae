// SPDX-License-Identifier: MIT
// Finds an app's entrypoint inside its directory and refuses paths that escape it. The
// default names and the kind of an entrypoint are the launch contract's
// (proto::kDefaultEntrypoints, proto::entrypointKindOf).
#pragma once

#include <string>

#include "buntime/base/expected.h"
#include "buntime/proto/launch.h"

namespace buntime::worker {

struct Entrypoint {
    proto::EntrypointKind kind = proto::EntrypointKind::None;
    std::string app_dir;      // realpath of the app directory
    std::string path;         // realpath of the entrypoint file (inside app_dir)
    std::string static_root;  // Static: directory of the html file
    std::string index_name;   // Static: file name of the html file (usually index.html)
};

// `requested` empty: the first of proto::kDefaultEntrypoints that exists. Otherwise that
// relative path; its kind comes from its name, and an executable must be executable. A
// path that is absolute, contains "..", resolves (through symlinks) outside app_dir, dangles
// or is not a regular file is refused. The error is a human-readable reason.
base::Expected<Entrypoint, std::string> resolveEntrypoint(const std::string& app_dir, const std::string& requested);

}  // namespace buntime::worker
