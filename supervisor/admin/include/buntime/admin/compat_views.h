// SPDX-License-Identifier: MIT
// The seed runtime's shapes of admin answers, built from the native views: its apps list and
// its API prefix rule (RUNTIME_API_PREFIX). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "buntime/admin/schema.h"
#include "buntime/base/expected.h"

namespace buntime::admin {

// The seed's GET /api/apps: one entry per app name, in the order of `rows`; rows without a dir
// (app-level errors) are left out. `path` is the directory that holds the versions: the app dir
// for nested and simple layouts, the worker root for flat ones (the first one seen).
std::vector<BunAppInfo> bunApps(const std::vector<AppRow>& rows);

// The native default of RUNTIME_API_PREFIX: the API at /_/api, as the seed with "/_".
inline constexpr std::string_view kDefaultApiPrefix = "/_";

// RUNTIME_API_PREFIX as the seed reads it: trailing slashes dropped, so "/" is the empty prefix
// (API at /api). Unset or empty text gives kDefaultApiPrefix. An error when the rest is not
// a plain absolute path ("/x/y": no '?', '#', '%', spaces, dot or empty segments).
struct ApiPrefixError {
    std::string message;  // names the variable, the value and why
};
base::Expected<std::string, ApiPrefixError> parseApiPrefix(std::string_view raw);

// The seed's API_PATH: prefix + "/api".
std::string apiPath(std::string_view prefix);
// The seed's reserved path: the prefix, or "/api" when it is empty. It and everything under it
// never reach an app.
std::string reservedRoot(std::string_view prefix);

}  // namespace buntime::admin
