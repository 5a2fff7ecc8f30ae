// SPDX-License-Identifier: MIT
// Entrypoint resolution with escape checks.
#include "buntime/worker/entrypoint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <optional>

namespace buntime::worker {
namespace {

std::optional<std::string> realPath(const std::string& p) {
    char buf[PATH_MAX];
    if (!::realpath(p.c_str(), buf)) return std::nullopt;
    return std::string(buf);
}

bool isInside(const std::string& root, const std::string& p) {
    return p.size() > root.size() && p.compare(0, root.size(), root) == 0 && (root == "/" || p[root.size()] == '/');
}

base::Expected<Entrypoint, std::string> resolveOne(const std::string& app_real, const std::string& requested) {
    std::filesystem::path rel(requested);
    bool escapes = rel.is_absolute();
    for (const auto& part : rel) {
        if (part == "..") escapes = true;
    }
    if (escapes) return "entrypoint '" + requested + "' escapes the app directory " + app_real;
    std::string candidate = app_real + "/" + requested;
    struct stat st {};
    if (::lstat(candidate.c_str(), &st) != 0) return "entrypoint '" + requested + "' not found in " + app_real;
    auto real = realPath(candidate);
    if (!real) return "entrypoint '" + requested + "' is a dangling link in " + app_real;
    if (!isInside(app_real, *real))
        return "entrypoint '" + requested + "' escapes the app directory " + app_real + " (resolves to " + *real + ")";
    if (::stat(real->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return "entrypoint '" + requested + "' is not a regular file";
    Entrypoint e;
    e.kind = proto::entrypointKindOf(requested);
    e.app_dir = app_real;
    e.path = *real;
    if (e.kind == proto::EntrypointKind::Static) {
        std::filesystem::path p(*real);
        e.static_root = p.parent_path().string();
        e.index_name = p.filename().string();
    } else if (e.kind == proto::EntrypointKind::Executable && ::access(real->c_str(), X_OK) != 0) {
        return "entrypoint '" + requested + "' is not an .html file, an .so or an executable";
    }
    return e;
}

}  // namespace

base::Expected<Entrypoint, std::string> resolveEntrypoint(const std::string& app_dir, const std::string& requested) {
    auto app_real = realPath(app_dir);
    struct stat st {};
    if (!app_real || ::stat(app_real->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return "app directory '" + app_dir + "' not found";
    if (!requested.empty()) return resolveOne(*app_real, requested);
    if (auto name = proto::defaultEntrypoint(*app_real); !name.empty()) return resolveOne(*app_real, name);
    std::string looked_for;
    for (const char* name : proto::kDefaultEntrypoints)
        looked_for += (looked_for.empty() ? "" : ", ") + std::string(name);
    return "no entrypoint in " + *app_real + " (looked for " + looked_for + ")";
}

}  // namespace buntime::worker
