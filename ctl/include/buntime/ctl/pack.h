// SPDX-License-Identifier: MIT
// What `buntimectl deploy` uploads: an archive file as it is, or a directory packed as .tar.gz.
#pragma once

#include <optional>
#include <string>

namespace buntime::ctl {

struct Upload {
    std::string bytes;
    std::string content_type;  // application/gzip or application/zip
};

// A directory is packed with `tar --create --gzip --dereference` (no shell; symlinks are
// stored as the files they point to, since the supervisor refuses symlinks); a file must be
// a gzip or zip archive (by its magic bytes). nullopt with `error` set otherwise.
std::optional<Upload> prepareUpload(const std::string& path, std::string& error);

}  // namespace buntime::ctl
