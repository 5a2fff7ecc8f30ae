// SPDX-License-Identifier: MIT
// Error values of the shared-memory transport; nothing in shm/ throws across its API.
//
// Per-frame calls (send, receive) answer an Error code: they are on the hot path and their
// answers (WouldBlock, Timeout, PeerDead) need no errno. Fallible construction (create,
// open, parse) answers Expected<T>, whose Failure keeps the errno of the failing syscall.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "buntime/base/expected.h"

namespace buntime::shm {

enum class Error : std::uint8_t {
    Ok = 0,
    WouldBlock,     // ring full (write) or empty (read): an answer, never a block
    TooLarge,       // frame payload exceeds Channel::maxPayload()
    BadMagic,       // frame or segment magic mismatch: peer wrote garbage
    BadLength,      // a length field is out of bounds
    BadGeneration,  // frame stamped with another worker generation (stale)
    BadLayout,      // segment layout version/size mismatch
    PeerDead,       // the other process exited (pidfd readable)
    Timeout,        // bounded wait elapsed
    System,         // a syscall failed; a Failure carries its errno
};

std::string_view toString(Error e) noexcept;

// Why a channel could not be created, opened or described. sys_errno is read right at the
// failing syscall, before any cleanup can change errno.
struct Failure {
    Error code = Error::System;
    int sys_errno = 0;      // 0 when no syscall failed
    std::string_view what;  // the failing syscall or check, a string literal ("memfd_create")
};

// "System: memfd_create: Too many open files", "BadLayout: segment is not sealed", "BadMagic".
std::string toString(const Failure& f);

template <typename T>
using Expected = base::Expected<T, Failure>;

}  // namespace buntime::shm
