// SPDX-License-Identifier: MIT
// Request-target parsing: "/<app>[@range]/rest?query" → app, range, base, rest, query.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace buntime::router {

enum class TargetKind : std::uint8_t {
    App,         // app/range/base/rest/query are set
    Reserved,    // the reserved root ("/_") or under it (admin), or "/.well-known/...": never reaches an app
    BadRequest,  // dot segment, '%' in the app segment, %00, bad name/range, not origin-form
    NotFound,    // "/" (or an empty first segment): no app named
};

std::string_view targetKindName(TargetKind kind) noexcept;

struct ParsedTarget {
    TargetKind kind = TargetKind::NotFound;
    std::string app;    // validated name (isValidAppName)
    std::string range;  // percent-decoded, empty when no '@'; validated by Range::parse
    std::string base;   // "/app" or "/app@range" exactly as it appeared (raw, not decoded)
    std::string rest;   // raw path after base, starts with '/'; "/" when empty
    std::string query;  // raw, without '?'; empty when absent
    std::string error;  // why, for BadRequest (safe to echo: no raw bytes from the target)
};

// Rules, in order:
//  - must start with '/' (origin-form); otherwise BadRequest. The query starts at the
//    first '?', a '#' fragment (not sent by clients) is dropped.
//  - any path segment equal to "." or "..", or whose percent-decoded form split on '/'
//    and '\\' has such a piece ("%2e%2E", "..%2f", "x%5c..%5cy"), or any "%00" in the
//    path → BadRequest. The rest is otherwise passed raw: apps decode it.
//  - the path equal to `reserved_root` or under it ("/_", "/_/..." by default; the seed's
//    RUNTIME_API_PREFIX rule), or first segment ".well-known" → Reserved.
//  - "/" or an empty first segment ("//x") → NotFound.
//  - first segment = name[@range]: '%' in the name → BadRequest (no encoded traversal
//    such as %2e%2e, %2f, %5c); invalid name → BadRequest; the range is percent-decoded
//    ("%5E1.0.0" = "^1.0.0", "%3E%3D1%20%3C2" = ">=1 <2"); empty range after '@',
//    malformed escapes, '/', '\\' or control characters in it → BadRequest. A range that does
//    not parse is kept: Router::route answers it 404 with the reason, as the seed does.
//  - "/app" (no trailing slash) is the app with rest "/".
ParsedTarget parseTarget(std::string_view target, std::string_view reserved_root = "/_");

// A target under a virtual host served by `app`: the same origin-form, NUL, dot-segment and
// reserved-path rules, then kind App with base "/" and rest the whole path ("/" included):
// the first segment is the app's own, not an app name.
ParsedTarget parseHostTarget(std::string_view target, std::string_view app, std::string_view reserved_root = "/_");

}  // namespace buntime::router
