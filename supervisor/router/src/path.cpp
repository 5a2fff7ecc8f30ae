// SPDX-License-Identifier: MIT
// Request-target parsing and the reserved/traversal checks that keep bad paths from apps.
#include "buntime/router/path.h"

#include "buntime/base/ascii.h"
#include "buntime/router/resolver.h"
#include "buntime/router/semver.h"

namespace buntime::router {

namespace {

// True when the raw segment is "." or "..", or its percent-decoded form contains such a
// piece once split on '/' and '\\' ("%2e%2e", "..%2f", "%2e%2e%5cetc"): an app that decodes
// before splitting must never see a traversal.
bool hasDotSegment(std::string_view seg) {
    if (seg == "." || seg == "..") return true;
    if (seg.find('%') == std::string_view::npos) return false;
    auto decoded = base::percentDecode(seg);
    if (!decoded) return false;  // malformed escapes cannot spell a dot; passed raw
    std::string_view d = *decoded;
    for (std::size_t start = 0; start <= d.size();) {
        std::size_t end = d.find_first_of("/\\", start);
        if (end == std::string_view::npos) end = d.size();
        std::string_view piece = d.substr(start, end - start);
        if (piece == "." || piece == "..") return true;
        start = end + 1;
    }
    return false;
}

ParsedTarget bad(std::string why) {
    ParsedTarget t;
    t.kind = TargetKind::BadRequest;
    t.error = std::move(why);
    return t;
}

// The checks every target passes, whatever serves it: origin-form, no NUL, no dot segment,
// and the reserved paths. Kind App means "fine, not reserved"; path and query are split.
ParsedTarget checkTarget(std::string_view target, std::string_view reserved_root, std::string_view& path,
                         std::string_view& query) {
    if (target.empty() || target[0] != '/') return bad("request target must start with '/'");
    if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
    path = target;
    query = {};
    if (auto q = target.find('?'); q != std::string_view::npos) {
        path = target.substr(0, q);
        query = target.substr(q + 1);
    }
    if (path.find("%00") != std::string_view::npos) return bad("NUL in path");
    // Every segment after the leading '/': reject dot segments anywhere.
    for (std::size_t start = 1; start <= path.size();) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        if (hasDotSegment(path.substr(start, end - start))) return bad("dot segment in path");
        start = end + 1;
    }
    std::size_t seg_end = path.find('/', 1);
    std::string_view first = path.substr(1, seg_end == std::string_view::npos ? std::string_view::npos : seg_end - 1);
    ParsedTarget t;
    const bool under_root = !reserved_root.empty() && path.starts_with(reserved_root) &&
                            (path.size() == reserved_root.size() || path[reserved_root.size()] == '/');
    t.kind = under_root || first == ".well-known" ? TargetKind::Reserved : TargetKind::App;
    return t;
}

}  // namespace

std::string_view targetKindName(TargetKind kind) noexcept {
    switch (kind) {
    case TargetKind::App: return "app";
    case TargetKind::Reserved: return "reserved";
    case TargetKind::BadRequest: return "bad-request";
    case TargetKind::NotFound: return "not-found";
    }
    return "unknown";
}

ParsedTarget parseHostTarget(std::string_view target, std::string_view app, std::string_view reserved_root) {
    std::string_view path, query;
    ParsedTarget t = checkTarget(target, reserved_root, path, query);
    if (t.kind != TargetKind::App) return t;
    t.app = std::string(app);
    t.base.push_back('/');  // not t.base = "/": g++ 12 -Wrestrict false positive
    t.rest = std::string(path);
    t.query = std::string(query);
    return t;
}

ParsedTarget parseTarget(std::string_view target, std::string_view reserved_root) {
    std::string_view path, query;
    if (ParsedTarget checked = checkTarget(target, reserved_root, path, query); checked.kind != TargetKind::App)
        return checked;
    std::size_t seg_end = path.find('/', 1);
    std::string_view first = path.substr(1, seg_end == std::string_view::npos ? std::string_view::npos : seg_end - 1);
    std::string_view rest = seg_end == std::string_view::npos ? std::string_view{} : path.substr(seg_end);

    ParsedTarget t;
    if (first.empty()) {
        t.kind = TargetKind::NotFound;
        return t;
    }
    std::size_t at = first.find('@');
    std::string_view name = first.substr(0, at);
    if (name.find('%') != std::string_view::npos) return bad("percent-encoding in app name");
    if (!isValidAppName(name)) return bad("invalid app name");
    if (at != std::string_view::npos) {
        auto decoded = base::percentDecode(first.substr(at + 1));
        if (!decoded) return bad("malformed percent-encoding in version range");
        if (decoded->empty()) return bad("empty version range after '@'");
        for (char c : *decoded)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '/' || c == '\\')
                return bad("invalid character in version range");
        t.range = std::move(*decoded);
    }
    t.kind = TargetKind::App;
    t.app = std::string(name);
    t.base.reserve(first.size() + 1);
    t.base.push_back('/');
    t.base.append(first);  // "/" + std::string(first) trips a g++ 12 -Wrestrict false positive
    t.rest = rest.empty() ? std::string("/") : std::string(rest);
    t.query = std::string(query);
    return t;
}

}  // namespace buntime::router
