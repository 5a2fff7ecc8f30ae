// SPDX-License-Identifier: MIT
// Both ends of one shm channel inside the test process: the supervisor end created, the
// worker end opened on duplicated descriptors (as a worker would open inherited ones).
#pragma once

#include <fcntl.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "buntime/shm/channel.h"

namespace buntime::shm::test {

using namespace std::chrono_literals;

inline int dupFd(int fd) { return ::fcntl(fd, F_DUPFD_CLOEXEC, 0); }

inline ChannelFds dupFds(const ChannelFds& f) {
    return {dupFd(f.segment), dupFd(f.to_worker_data), dupFd(f.to_worker_space), dupFd(f.to_supervisor_data),
            dupFd(f.to_supervisor_space)};
}

struct ChannelPair {
    Channel sup;
    Channel wrk;
};

// Aborts when the channel cannot be made: every test after it would be meaningless.
inline ChannelPair makeChannelPair(std::size_t ring_bytes, std::chrono::nanoseconds spin = 0ns,
                                   std::uint32_t generation = 7) {
    ChannelConfig cfg;
    cfg.ring_bytes = ring_bytes;
    cfg.generation = generation;
    cfg.spin = spin;
    auto sup = Channel::create(cfg);
    if (!sup) std::abort();
    auto wrk = Channel::open(dupFds(sup->fds()), spin);
    if (!wrk) std::abort();
    return ChannelPair{std::move(sup).value(), std::move(wrk).value()};
}

}  // namespace buntime::shm::test
