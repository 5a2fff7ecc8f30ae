// SPDX-License-Identifier: MIT
// Helpers of the pool suites: the shared FakeClock and lookups in the Effects a call returns.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

#include "buntime/pool/types.h"
#include "fake_clock.h"

namespace buntime::pool::test {

using namespace std::chrono_literals;
using buntime::test::FakeClock;

// The first action of `kind` (for worker `id` when id != 0), or nullptr.
inline const Action* findAction(const Effects& fx, ActionKind kind, WorkerId id = 0) {
    auto it = std::find_if(fx.actions.begin(), fx.actions.end(),
                           [&](const Action& a) { return a.kind == kind && (id == 0 || a.worker == id); });
    return it == fx.actions.end() ? nullptr : &*it;
}

inline std::size_t countActions(const Effects& fx, ActionKind kind) {
    return static_cast<std::size_t>(
        std::count_if(fx.actions.begin(), fx.actions.end(), [&](const Action& a) { return a.kind == kind; }));
}

}  // namespace buntime::pool::test
