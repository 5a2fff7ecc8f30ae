// SPDX-License-Identifier: MIT
// Unpacking an uploaded app archive (.tar.gz or .zip) into a directory, checking every entry.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "buntime/base/expected.h"

namespace buntime::deploy {

// Why a deploy or a removal failed: the HTTP status (400, 404, 409, 413, 500, 503), an
// upper-case code for the admin error body, and a message for a person.
struct DeployError {
    unsigned status = 400;
    std::string code;
    std::string message;
};

inline DeployError deployError(unsigned status, std::string code, std::string message) {
    return {status, std::move(code), std::move(message)};
}

// Limits counted while extracting (headers are never trusted).
struct ExtractLimits {
    std::uint64_t max_entries = 10'000;
    std::uint64_t max_bytes = 200ull * 1024 * 1024;  // unpacked, all files together
    // A zip bomb: unpacked / packed above this once more than ratio_floor bytes came out.
    std::uint64_t max_ratio = 200;
    std::uint64_t ratio_floor = 16ull * 1024 * 1024;
};

enum class ArchiveFormat { TarGz, Zip, Unknown };

// By magic bytes: 1f 8b (gzip, a tar inside), "PK\3\4" or "PK\5\6" (zip).
ArchiveFormat sniffFormat(std::string_view data) noexcept;

struct ExtractStats {
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;
};

// Unpacks `data` into the existing empty directory `dest`. Regular files and directories
// only: absolute paths, ".." components, symlinks, device files, fifos and sockets are
// refused (400); a hard link is copied when it names a regular file extracted earlier, else
// refused. Files get mode 0644 (0755 when any execute bit is set), directories 0755. Over a
// limit: 413. On an error `dest` holds a partial tree: the caller removes it. Blocking I/O:
// call it off the event loop. Thread-safe (no shared state).
base::Expected<ExtractStats, DeployError> extractArchive(std::string_view data, const std::filesystem::path& dest,
                                                         const ExtractLimits& limits = {});

// The single file part of a multipart/form-data body (`content_type` carries the boundary):
// the part with a filename, else the only part. Errors are 400s.
base::Expected<std::string_view, DeployError> multipartFile(std::string_view content_type, std::string_view body);

}  // namespace buntime::deploy
