// SPDX-License-Identifier: MIT
// One packet with descriptors (SCM_RIGHTS) over a unix socket: the template control
// channel's transport, shared by the supervisor (proc/zygote.h) and buntime-worker.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "buntime/base/error.h"
#include "buntime/base/expected.h"
#include "buntime/base/unique_fd.h"

namespace buntime::base {

inline constexpr std::size_t kMaxPassedFds = 16;

// Sends `bytes` as one packet with `fds` attached (at most kMaxPassedFds). `flags` are
// added to MSG_NOSIGNAL (MSG_DONTWAIT: EAGAIN instead of blocking). EINTR is retried.
Expected<void, SysError> sendWithFds(int socket, std::span<const std::byte> bytes, std::span<const int> fds,
                                     int flags = 0);

struct ReceivedPacket {
    std::size_t size = 0;    // 0: the peer closed its end
    bool truncated = false;  // the packet or its descriptors did not fit
};

// Receives one packet into `buffer`; its descriptors (close-on-exec) are appended to `fds`.
// `flags` are added to MSG_CMSG_CLOEXEC. EINTR is retried.
Expected<ReceivedPacket, SysError> receiveWithFds(int socket, std::span<std::byte> buffer, std::vector<UniqueFd>& fds,
                                                  int flags = 0);

}  // namespace buntime::base
