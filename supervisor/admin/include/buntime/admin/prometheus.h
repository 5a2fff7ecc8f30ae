// SPDX-License-Identifier: MIT
// The admin metrics and worker rows in the Prometheus text format (0.0.4), served at /_/metrics.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "buntime/admin/schema.h"

namespace buntime::admin {

// One series per numeric metric (buntime_<snake_case key>, counters get "_total"; workerRssBytes
// is buntime_workers_rss_bytes), in key order; each counter is also a gauge under its bare
// buntime_<snake_case key> name, so the seed runtime's 16 series (all gauges, named so) are
// all there; then per-worker series buntime_worker_*
// labelled {key, status}: requests_total, errors_total, avg_response_time_ms, rss_bytes (live
// workers only), in_flight. Between the two, the histogram buntime_worker_spawn_seconds
// {path, kind} (from MetricsView::worker_spawn_seconds) when some worker became ready.
std::string renderPrometheus(const MetricsView& metrics, const std::vector<WorkerRow>& workers);

// camelCase → snake_case ("totalWorkersCreated" → "total_workers_created").
std::string snakeCase(std::string_view camel);

// A label value with '\\', '"' and newlines escaped as the text format requires.
std::string escapeLabel(std::string_view value);

}  // namespace buntime::admin
