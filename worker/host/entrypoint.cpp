// SPDX-License-Identifier: MIT
// Entrypoint resolution with escape checks.
#include "buntime/worker/entrypoint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>

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

bool endsWith(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

EntrypointResult resolveOne(const std::string& app_real, const std::string& requested) {
    EntrypointResult r;
    std::filesystem::path rel(requested);
    bool escapes = rel.is_absolute();
    for (const auto& part : rel) {
        if (part == "..") escapes = true;
    }
    if (escapes) {
        r.error = "entrypoint '" + requested + "' escapes the app directory " + app_real;
        return r;
    }
    std::string candidate = app_real + "/" + requested;
    struct stat st {};
    if (::lstat(candidate.c_str(), &st) != 0) {
        r.error = "entrypoint '" + requested + "' not found in " + app_real;
        return r;
    }
    auto real = realPath(candidate);
    if (!real) {
        r.error = "entrypoint '" + requested + "' is a dangling link in " + app_real;
        return r;
    }
    if (!isInside(app_real, *real)) {
        r.error =
            "entrypoint '" + requested + "' escapes the app directory " + app_real + " (resolves to " + *real + ")";
        return r;
    }
    if (::stat(real->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        r.error = "entrypoint '" + requested + "' is not a regular file";
        return r;
    }
    Entrypoint e;
    e.app_dir = app_real;
    e.path = *real;
    if (endsWith(requested, ".html") || endsWith(requested, ".htm")) {
        e.kind = EntrypointKind::Static;
        std::filesystem::path p(*real);
        e.static_root = p.parent_path().string();
        e.index_name = p.filename().string();
    } else if (endsWith(requested, ".so")) {
        e.kind = EntrypointKind::SharedObject;
    } else if (::access(real->c_str(), X_OK) == 0) {
        e.kind = EntrypointKind::Executable;
    } else {
        r.error = "entrypoint '" + requested + "' is not an .html file, an .so or an executable";
        return r;
    }
    r.entry = std::move(e);
    return r;
}

}  // namespace

std::string_view kindName(EntrypointKind kind) noexcept {
    switch (kind) {
    case EntrypointKind::Static: return "static";
    case EntrypointKind::SharedObject: return "so";
    case EntrypointKind::Executable: return "exec";
    }
    return "static";
}

EntrypointResult resolveEntrypoint(const std::string& app_dir, const std::string& requested) {
    auto app_real = realPath(app_dir);
    struct stat st {};
    if (!app_real || ::stat(app_real->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return {std::nullopt, "app directory '" + app_dir + "' not found"};
    }
    if (!requested.empty()) return resolveOne(*app_real, requested);
    for (const char* name : {"index.html", "app.so", "app"}) {
        std::string candidate = *app_real + "/" + name;
        if (::lstat(candidate.c_str(), &st) == 0) return resolveOne(*app_real, name);
    }
    return {std::nullopt, "no entrypoint in " + *app_real + " (looked for index.html, app.so, app)"};
}

}  // namespace buntime::worker
