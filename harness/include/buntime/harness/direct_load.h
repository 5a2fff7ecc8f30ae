// SPDX-License-Identifier: MIT
// Closed-loop load through Runtime::direct (no sockets): enters the supervisor at the router.
#pragma once

#include "buntime/harness/config.h"
#include "buntime/harness/result.h"

#include <buntime/supervisor/runtime.h>

namespace buntime::harness {

// Blocks the calling thread; completions arrive on the runtime's thread(s). A request not
// answered within params.timeout_ms counts as a timeout and its loop moves on (a late
// answer is ignored). Returns after the measured phase (in-flight requests are dropped).
ScenarioResult runDirectLoad(supervisor::Runtime& runtime, const Scenario& scenario, const LoadParams& params);

supervisor::DirectRequest directRequestFor(const Scenario& scenario);

}  // namespace buntime::harness
