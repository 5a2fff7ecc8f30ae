// SPDX-License-Identifier: MIT
// Transitional: the protocol moved to proto/ (buntime/proto/*.h).
#pragma once

#include "buntime/base/clock.h"
#include "buntime/proto/launch.h"
#include "buntime/proto/messages.h"

namespace buntime::proto {
using base::monotonicNs;
}  // namespace buntime::proto
