// SPDX-License-Identifier: MIT
// Ring counter totals and per-request timing.
#include "ipc_stats.h"

namespace buntime::supervisor {

void IpcStats::recordResponse(const proto::ResponseHead& head, std::uint64_t sent_ns, std::uint64_t now_ns) noexcept {
    if (!head.sent_ns || !sent_ns || head.request_received_ns < sent_ns) return;  // not measured, or clocks disagree
    ring_in_ns_ += static_cast<double>(head.request_received_ns - sent_ns);
    ring_out_ns_ += static_cast<double>(now_ns >= head.sent_ns ? now_ns - head.sent_ns : 0);
    app_ns_ += static_cast<double>(head.handler_ns);
    ++timed_;
}

void IpcStats::retire(const shm::RingStats& to_worker, const shm::RingStats& to_supervisor) noexcept {
    to_worker_ += to_worker;
    to_supervisor_ += to_supervisor;
}

IpcCounters IpcStats::totals(const shm::RingStats& live_to_worker,
                             const shm::RingStats& live_to_supervisor) const noexcept {
    shm::RingStats out = to_worker_, in = to_supervisor_;
    out += live_to_worker;
    in += live_to_supervisor;
    IpcCounters r;
    r.messages_to_worker = out.messages;
    r.messages_to_supervisor = in.messages;
    r.bytes_to_worker = out.bytes;
    r.bytes_to_supervisor = in.bytes;
    // Wake-ups, spins and sleeps of both rings together, as before.
    r.wakeups = out.wakeups + in.wakeups;
    r.spin_hits = out.spin_hits + in.spin_hits;
    r.sleeps = out.sleeps + in.sleeps;
    r.full_stalls = out.full_stalls + in.full_stalls;
    if (timed_) {
        r.ring_ns_per_request_in = ring_in_ns_ / static_cast<double>(timed_);
        r.ring_ns_per_request_out = ring_out_ns_ / static_cast<double>(timed_);
        r.app_ns_per_request = app_ns_ / static_cast<double>(timed_);
    }
    return r;
}

}  // namespace buntime::supervisor
