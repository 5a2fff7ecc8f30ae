// SPDX-License-Identifier: MIT
// Static file and SPA serving for apps whose entrypoint is an html file: correct content
// types, index fallback for client-side routes, optional <base href> injection, and no
// path traversal (percent-decoded before checking).
//
// Thread-safety: a StaticSite is immutable after construction; handle() runs concurrently
// on the pool threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/app/app.h"

namespace buntime::worker {

// Percent-decodes a URL path; nullopt for a malformed escape or a NUL byte.
std::optional<std::string> decodePath(std::string_view path);

// Splits a decoded path into segments, dropping empty and "." ones. nullopt when a
// segment is ".." or contains a backslash: the request is refused.
std::optional<std::vector<std::string>> safeSegments(std::string_view decoded);

std::string_view contentType(std::string_view file_name) noexcept;
std::string htmlEscape(std::string_view text);
// Inserts <base href="BASE/"> (escaped) right after the opening <head> tag, or at the
// start of the document when there is none.
std::string injectBase(std::string_view html, std::string_view base);

class StaticSite {
public:
    // root: realpath of the directory served; index_name: file served for "/" and for
    // client-side routes (paths whose last segment has no extension).
    StaticSite(std::string root, std::string index_name, bool inject_base);

    void handle(app::Request& req, app::Response& res);

    // The blocking-style app table whose handle() calls StaticSite::handle (ctx = this).
    static const buntime_app_v1* appTable() noexcept;

private:
    void serveIndex(app::Request& req, app::Response& res, bool head_only) const;
    void serveFile(const std::string& full, std::string_view name, app::Response& res, bool head_only) const;

    const std::string root_;
    const std::string index_name_;
    const bool inject_base_;
};

}  // namespace buntime::worker
