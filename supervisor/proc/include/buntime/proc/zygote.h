// SPDX-License-Identifier: MIT
// The syscalls of the supervisor's side of a template (zygote) control channel: a
// SOCK_SEQPACKET socketpair, one packet with SCM_RIGHTS descriptors out, one packet (with
// a timeout) in. The messages themselves are proto/zygote.h; the policy is supervisor/core.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "buntime/base/error.h"
#include "buntime/base/expected.h"
#include "buntime/base/unique_fd.h"

namespace buntime::proc {

struct ControlPair {
    base::UniqueFd supervisor;  // CLOEXEC
    base::UniqueFd child;       // CLOEXEC too: pass it with SpawnOptions::pass_fds
};

// socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC).
base::Expected<ControlPair, base::SysError> controlPair();

// Sends one packet with `fds` attached (SCM_RIGHTS; the caller keeps its copies). Blocks
// at most `timeout` for buffer space. EPIPE/ECONNRESET: the peer is gone.
base::Expected<void, base::SysError> sendPacket(int socket, std::span<const std::byte> packet, std::span<const int> fds,
                                                std::chrono::milliseconds timeout);

struct Packet {
    std::vector<std::byte> bytes;     // empty with eof: the peer closed its end
    std::vector<base::UniqueFd> fds;  // descriptors that came with it (CLOEXEC)
    bool eof = false;
};

// Receives one packet, waiting at most `timeout` (ETIMEDOUT past it). A packet longer than
// `max_bytes` is an error (EMSGSIZE), its descriptors closed.
base::Expected<Packet, base::SysError> recvPacket(int socket, std::size_t max_bytes, std::chrono::milliseconds timeout);

}  // namespace buntime::proc
