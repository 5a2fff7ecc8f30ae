// SPDX-License-Identifier: MIT
// extractArchive: libarchive reads, this file decides: every entry's path, type and size is
// checked here, and files are written with O_NOFOLLOW under directories this code created.
#include "buntime/deploy/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "buntime/base/error.h"
#include "buntime/base/unique_fd.h"

namespace buntime::deploy {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxPathBytes = 4096;

struct ArchiveCloser {
    void operator()(archive* a) const noexcept { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveCloser>;

// Bytes from an archive or a client, safe to put into a JSON message: printable ASCII kept,
// everything else as \xNN.
std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s.substr(0, 200)) {
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += static_cast<char>(c);
        } else {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    if (s.size() > 200) out += "...";
    return out;
}

DeployError refused(std::string code, std::string message) {
    return deployError(400, std::move(code), std::move(message));
}

// The entry's path as relative components; "" components and "." dropped. Refuses absolute
// paths and "..".
base::Expected<std::vector<std::string>, DeployError> splitEntryPath(const char* raw) {
    if (raw == nullptr) return refused("UNSAFE_PATH", "an archive entry has no readable path");
    const std::string_view path(raw);
    if (path.size() > kMaxPathBytes) return refused("UNSAFE_PATH", "an archive entry's path is too long");
    if (path.starts_with('/')) return refused("UNSAFE_PATH", "absolute path in archive: \"" + printable(path) + "\"");
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const auto part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (part == "..") return refused("UNSAFE_PATH", "path with \"..\" in archive: \"" + printable(path) + "\"");
        if (!part.empty() && part != ".") parts.emplace_back(part);
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return parts;
}

std::string joined(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
    return out;
}

DeployError ioError(std::string_view what, int err) {
    return deployError(500, "DEPLOY_IO_ERROR", base::sysError(what, err).message);
}

}  // namespace

ArchiveFormat sniffFormat(std::string_view data) noexcept {
    if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b)
        return ArchiveFormat::TarGz;
    if (data.size() >= 4 && data.substr(0, 2) == "PK" &&
        ((data[2] == 3 && data[3] == 4) || (data[2] == 5 && data[3] == 6)))
        return ArchiveFormat::Zip;
    return ArchiveFormat::Unknown;
}

base::Expected<ExtractStats, DeployError> extractArchive(std::string_view data, const fs::path& dest,
                                                         const ExtractLimits& limits) {
    const auto format = sniffFormat(data);
    if (format == ArchiveFormat::Unknown)
        return refused("UNKNOWN_FORMAT", "the upload is neither a .tar.gz/.tgz nor a .zip archive");
    ArchivePtr a(archive_read_new());
    if (!a) return deployError(500, "DEPLOY_IO_ERROR", "cannot allocate an archive reader");
    if (format == ArchiveFormat::TarGz) {
        archive_read_support_filter_gzip(a.get());
        archive_read_support_format_tar(a.get());
    } else {
        archive_read_support_format_zip(a.get());
    }
    if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK)
        return refused("BAD_ARCHIVE",
                       std::string("unreadable archive: ") +
                           printable(archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error"));
    ExtractStats stats;
    std::set<std::string> files;  // regular files extracted so far (hard-link targets)
    std::array<char, 64 * 1024> buffer{};
    archive_entry* entry = nullptr;
    for (;;) {
        const int r = archive_read_next_header(a.get(), &entry);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            const char* why = archive_error_string(a.get());
            return refused("BAD_ARCHIVE", "unreadable archive: " + printable(why ? why : "unknown error"));
        }
        if (++stats.entries > limits.max_entries)
            return deployError(413, "ARCHIVE_TOO_LARGE",
                               "the archive has more than " + std::to_string(limits.max_entries) + " entries");
        auto parts = splitEntryPath(archive_entry_pathname(entry));
        if (!parts) return parts.error();
        const std::string rel = joined(*parts);
        const fs::path target = rel.empty() ? dest : dest / rel;
        const auto type = archive_entry_filetype(entry);
        const char* hardlink = archive_entry_hardlink(entry);
        if (type == AE_IFLNK || (archive_entry_symlink(entry) != nullptr && hardlink == nullptr))
            return refused("UNSAFE_ENTRY", "symlink in archive: \"" + printable(rel) +
                                               "\" (symlinks are refused; pack the files they point to)");
        if (hardlink != nullptr) {
            auto link_parts = splitEntryPath(hardlink);
            if (!link_parts) return link_parts.error();
            const std::string link_rel = joined(*link_parts);
            if (rel.empty() || !files.count(link_rel))
                return refused("UNSAFE_ENTRY", "hard link \"" + printable(rel) + "\" to \"" + printable(link_rel) +
                                                   "\", which is not a file earlier in the archive");
            std::error_code ec;
            fs::create_directories(target.parent_path(), ec);
            if (!ec) fs::copy_file(dest / link_rel, target, fs::copy_options::overwrite_existing, ec);
            if (ec) return deployError(500, "DEPLOY_IO_ERROR", "copy " + printable(rel) + ": " + ec.message());
            stats.bytes += fs::file_size(target, ec);
            if (stats.bytes > limits.max_bytes)
                return deployError(413, "ARCHIVE_TOO_LARGE",
                                   "the archive unpacks to more than " + std::to_string(limits.max_bytes) + " bytes");
            files.insert(rel);
            continue;
        }
        if (type == AE_IFDIR) {
            std::error_code ec;
            fs::create_directories(target, ec);
            if (ec || !fs::is_directory(fs::symlink_status(target)))
                return refused("BAD_ARCHIVE", "cannot create directory \"" + printable(rel) + "\"");
            continue;
        }
        if (type != AE_IFREG) {
            const char* what = type == AE_IFCHR || type == AE_IFBLK ? "device file"
                               : type == AE_IFIFO                   ? "fifo"
                               : type == AE_IFSOCK                  ? "socket"
                                                                    : "special file";
            return refused("UNSAFE_ENTRY", std::string(what) + " in archive: \"" + printable(rel) + "\"");
        }
        if (rel.empty()) return refused("UNSAFE_PATH", "a file entry with an empty path");
        std::error_code ec;
        fs::create_directories(target.parent_path(), ec);
        if (ec) return refused("BAD_ARCHIVE", "cannot create the directory of \"" + printable(rel) + "\"");
        const mode_t mode = (archive_entry_perm(entry) & 0111) != 0 ? 0755 : 0644;
        base::UniqueFd fd(::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode));
        if (!fd) {
            if (errno == EISDIR || errno == ELOOP)
                return refused("BAD_ARCHIVE", "entry \"" + printable(rel) + "\" clashes with an earlier one");
            return ioError("open " + target.string(), errno);
        }
        for (;;) {
            const la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
            if (n == 0) break;
            if (n < 0) {
                const char* why = archive_error_string(a.get());
                return refused("BAD_ARCHIVE",
                               "corrupt data in \"" + printable(rel) + "\": " + printable(why ? why : "unknown error"));
            }
            stats.bytes += static_cast<std::uint64_t>(n);
            if (stats.bytes > limits.max_bytes)
                return deployError(413, "ARCHIVE_TOO_LARGE",
                                   "the archive unpacks to more than " + std::to_string(limits.max_bytes) + " bytes");
            if (stats.bytes > limits.ratio_floor &&
                stats.bytes / std::max<std::uint64_t>(data.size(), 1) > limits.max_ratio)
                return deployError(413, "ARCHIVE_TOO_LARGE",
                                   "the archive expands more than " + std::to_string(limits.max_ratio) +
                                       " times its size (a zip bomb?)");
            const char* p = buffer.data();
            std::size_t left = static_cast<std::size_t>(n);
            while (left > 0) {
                const ssize_t w = ::write(fd.get(), p, left);
                if (w < 0) {
                    if (errno == EINTR) continue;
                    return ioError("write " + target.string(), errno);
                }
                p += w;
                left -= static_cast<std::size_t>(w);
            }
        }
        files.insert(rel);
    }
    return stats;
}

}  // namespace buntime::deploy
