// SPDX-License-Identifier: MIT
// Human renderings of admin API answers: status summary, worker and app tables, metrics.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace buntime::ctl {

// All functions are pure: they read the JSON shapes of /_/api/* (missing or mistyped
// fields render as "-", never throw) and return text fitted to `width` columns.

// health: /_/api/health; ready: /_/api/health/ready body or null when unknown;
// metrics: /_/api/metrics.
std::string renderStatus(const nlohmann::json& health, const nlohmann::json& ready, const nlohmann::json& metrics,
                         std::size_t width);

// workers: /_/api/workers. sort: one of workerSortKeys() or empty for server order;
// app: keep only workers whose name is app (empty keeps all).
std::string renderWorkers(const nlohmann::json& workers, std::string_view sort, std::string_view app,
                          std::size_t width);

// apps: /_/api/apps; a table of apps followed by a section listing manifest errors.
std::string renderApps(const nlohmann::json& apps, std::size_t width);

// metrics: every field on its own line, with human units next to ms / bytes / MB / rates.
std::string renderMetrics(const nlohmann::json& metrics, std::size_t width);

// The compact `metrics --watch` view: a header line and one line per refresh.
std::string watchHeader(std::size_t width);
std::string watchLine(const nlohmann::json& metrics, std::string_view clock, std::size_t width);

}  // namespace buntime::ctl
