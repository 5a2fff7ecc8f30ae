// SPDX-License-Identifier: MIT
// Human renderings of admin API answers: status summary, worker and app tables, metrics.
#pragma once

#include "buntime/admin/schema.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace buntime::ctl {

// All functions are pure: they render the typed views of /_/api/* (buntime/admin/schema.h)
// and return text fitted to `width` columns. A value the supervisor reports as null (the pid,
// RSS and rings of a worker without a live process) or leaves out (the config of an app whose
// manifest does not load) renders as "-".

// health: /_/api/health; ready: /_/api/health/ready, nullopt when unknown; metrics: /_/api/metrics.
std::string renderStatus(const admin::HealthView& health, const std::optional<admin::ReadyView>& ready,
                         const admin::MetricsView& metrics, std::size_t width);

// workers: the rows of /_/api/workers. sort: one of workerSortKeys() or empty for server
// order; app: keep only workers whose name is app (empty keeps all).
std::string renderWorkers(const std::vector<admin::WorkerRow>& workers, std::string_view sort, std::string_view app,
                          std::size_t width);

// apps: the rows of /_/api/apps; a table of apps followed by a section listing manifest errors.
std::string renderApps(const std::vector<admin::AppRow>& apps, std::size_t width);

// metrics: every field on its own line, with human units next to ms / bytes / MB / rates.
std::string renderMetrics(const admin::MetricsView& metrics, std::size_t width);

// The compact `metrics --watch` view: a header line and one line per refresh.
std::string watchHeader(std::size_t width);
std::string watchLine(const admin::MetricsView& metrics, std::string_view clock, std::size_t width);

}  // namespace buntime::ctl
