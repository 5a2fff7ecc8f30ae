// SPDX-License-Identifier: MIT
// Closed-loop load through a direct submit function (Runtime::direct in production): no
// sockets, the request enters the supervisor at the router.
#pragma once

#include "buntime/harness/config.h"
#include "buntime/harness/result.h"

#include <buntime/supervisor/runtime.h>

#include <functional>

namespace buntime::harness {

// Called once with the response, on any thread.
using DirectDone = std::function<void(supervisor::DirectResponse)>;
// Hands one request to the runtime, which answers later on its own thread: `done` must not
// run before submit returns (the driver re-submits from `done`, so a synchronous answer would
// recurse). Called from the driver's thread and from `done` callbacks.
using DirectSubmit = std::function<void(supervisor::DirectRequest, DirectDone)>;

// Blocks the calling thread; completions arrive on the submitter's thread(s). A request not
// answered within params.timeout_ms counts as a timeout and its loop moves on (a late
// answer is ignored). Returns after the measured phase (in-flight requests are dropped);
// what `submit` refers to must outlive the call.
ScenarioResult runDirectLoad(const DirectSubmit& submit, const Scenario& scenario, const LoadParams& params);

supervisor::DirectRequest directRequestFor(const Scenario& scenario);

}  // namespace buntime::harness
