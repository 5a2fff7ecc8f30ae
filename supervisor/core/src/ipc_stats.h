// SPDX-License-Identifier: MIT
// The IPC breakdown behind the harness's report: ring counters summed over every worker
// (exited ones included) and per-request ring and app times from the response heads.
// Core-loop only.
#pragma once

#include <cstdint>

#include "buntime/proto/messages.h"
#include "buntime/shm/layout.h"
#include "buntime/supervisor/runtime.h"

namespace buntime::supervisor {

class IpcStats {
public:
    // One response head's timing; `sent_ns` is when its request entered the ring.
    void recordResponse(const proto::ResponseHead& head, std::uint64_t sent_ns, std::uint64_t now_ns) noexcept;
    // Keeps the counters of a worker that is going away.
    void retire(const shm::RingStats& to_worker, const shm::RingStats& to_supervisor) noexcept;
    // Totals: the retired workers' counters plus the live ones given.
    IpcCounters totals(const shm::RingStats& live_to_worker, const shm::RingStats& live_to_supervisor) const noexcept;

private:
    shm::RingStats to_worker_;
    shm::RingStats to_supervisor_;
    double ring_in_ns_ = 0;
    double ring_out_ns_ = 0;
    double app_ns_ = 0;
    std::uint64_t timed_ = 0;
};

}  // namespace buntime::supervisor
