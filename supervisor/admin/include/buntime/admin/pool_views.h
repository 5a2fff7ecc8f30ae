// SPDX-License-Identifier: MIT
// The admin views of the pool's own types: what pool::PoolMetrics and pool::WorkerStats
// contribute to /_/api/metrics and /_/api/workers. Pure functions.
#pragma once

#include "buntime/admin/schema.h"
#include "buntime/pool/types.h"

namespace buntime::admin {

// The seed's pool fields; the caller sets the supervisor's own (ephemeral_active,
// ephemeral_concurrency_limit, ephemeral_rejected, pool_size, in_flight_requests, pid,
// version, listen, supervisor_rss_bytes, worker_rss_bytes).
MetricsView metricsView(const pool::PoolMetrics& metrics);

// key, name/version (split at the last '@'), status, state and the counters; pid,
// rss_bytes and ring stay null: the caller fills them for a live worker process (and sets
// in_flight to its own count, and status to "draining" for a retired worker).
WorkerRow workerRow(const pool::WorkerStats& stats);

}  // namespace buntime::admin
