// SPDX-License-Identifier: MIT
// JSON views of router values for the admin API (camelCase keys, as in manifest.yaml).
#pragma once

#include <nlohmann/json.hpp>

#include "buntime/router/manifest.h"
#include "buntime/router/resolver.h"

namespace buntime::router {

// Durations in milliseconds (timeoutMs, ttlMs, idleTimeoutMs), sizes in bytes.
nlohmann::json toJson(const WorkerConfig& config);
nlohmann::json toJson(const ResolvedApp& app);  // {name, version, dir, key, layout}
nlohmann::json toJson(const AppInfo& app);      // {name, versions: [{version, dir, layout, error?}], errors}
nlohmann::json toJson(const std::vector<AppInfo>& apps);

}  // namespace buntime::router
