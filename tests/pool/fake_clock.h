// SPDX-License-Identifier: MIT
// A hand-advanced clock and small helpers for the pool suites.
#pragma once

#include <algorithm>
#include <chrono>

#include "buntime/pool/types.h"

namespace pooltest {

using namespace std::chrono_literals;
using buntime::pool::Millis;
using buntime::pool::TimePoint;

struct FakeClock {
    TimePoint now = TimePoint{} + std::chrono::hours(1);
    TimePoint advance(Millis d) { return now += d; }
};

inline const buntime::pool::Action* findAction(const buntime::pool::Effects& fx, buntime::pool::ActionKind kind,
                                               buntime::pool::WorkerId id = 0) {
    auto it = std::find_if(fx.actions.begin(), fx.actions.end(), [&](const buntime::pool::Action& a) {
        return a.kind == kind && (id == 0 || a.worker == id);
    });
    return it == fx.actions.end() ? nullptr : &*it;
}

inline std::size_t countActions(const buntime::pool::Effects& fx, buntime::pool::ActionKind kind) {
    return static_cast<std::size_t>(std::count_if(fx.actions.begin(), fx.actions.end(),
                                                  [&](const buntime::pool::Action& a) { return a.kind == kind; }));
}

}  // namespace pooltest
