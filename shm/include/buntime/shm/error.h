// SPDX-License-Identifier: MIT
// Error values of the shared-memory transport; nothing in shm/ throws across its API.
#pragma once

#include <cstdint>
#include <string_view>

namespace buntime::shm {

enum class Error : std::uint8_t {
    Ok = 0,
    WouldBlock,     // ring full (write) or empty (read): an answer, never a block
    TooLarge,       // frame payload exceeds Ring::maxPayload()
    BadMagic,       // frame or segment magic mismatch: peer wrote garbage
    BadLength,      // a length field is out of bounds
    BadGeneration,  // frame stamped with another worker generation (stale)
    BadLayout,      // segment layout version/size mismatch
    PeerDead,       // the other process exited (pidfd readable)
    Timeout,        // bounded wait elapsed
    System,         // a syscall failed; errno is kept by the caller
};

std::string_view toString(Error e) noexcept;

}  // namespace buntime::shm
