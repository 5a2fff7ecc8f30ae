// SPDX-License-Identifier: MIT
// Transitional: moved to proto/stream.h; removed after the merge.
//
// The continuation constants and whole-message helpers that shm/ used to own. Code outside
// shm/ still names them (worker/host, worker/bench, supervisor/core, tests/worker,
// tests/fuzz) until it switches to proto::; shm/ itself uses none of this. proto/ depends
// on shm/, so these cannot forward to proto:: and stay a copy until then. The constants
// equal proto::kContinuationKind and proto::kFlagMore (supervisor/ipc checks it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "buntime/shm/channel.h"

namespace buntime::shm {

// Transitional: moved to proto/stream.h (proto::kContinuationKind, proto::kFlagMore).
inline constexpr std::uint16_t kContinuationKind = 0xfffe;
inline constexpr std::uint16_t kFlagMore = 0x1;

// Transitional: moved to proto/stream.h (proto::Message).
struct Message {
    std::uint16_t kind = 0;
    std::uint16_t flags = 0;  // flags of the first frame, kFlagMore cleared
    std::uint64_t request_id = 0;
    std::vector<std::byte> head;
    std::vector<std::byte> body;
};

// Transitional: moved to proto/stream.h (proto::sendMessage).
Error sendMessage(Channel& channel, std::uint16_t kind, std::uint16_t flags, std::uint64_t request_id,
                  std::span<const std::byte> head, std::span<const std::byte> body, std::chrono::nanoseconds timeout);

// Transitional: moved to proto/stream.h (proto::receiveMessage).
Error receiveMessage(Channel& channel, Message& out, std::chrono::nanoseconds timeout,
                     std::size_t max_body = std::size_t(1) << 31);

// Transitional: use proto::bytesOf (proto/control.h).
inline std::span<const std::byte> asBytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace buntime::shm
