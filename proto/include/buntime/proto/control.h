// SPDX-License-Identifier: MIT
// The wire contract, part 3: the payloads of the control messages.
//
//   Terminate head  the grace period in milliseconds as ASCII decimal digits ("5000");
//                   empty or malformed means kDefaultTerminateGrace.
//   InitFailed head the reason text, at most kMaxReasonBytes bytes.
//   Error head      the same. Text is meant to be UTF-8, but a reader must not assume it:
//                   it may hold any bytes an app put in its message.
// Writers cut longer reasons at kMaxReasonBytes (on a UTF-8 character boundary) and
// readers cut again, so neither side trusts the other to.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace buntime::proto {

inline constexpr std::size_t kMaxReasonBytes = 4096;
inline constexpr std::chrono::milliseconds kDefaultTerminateGrace{5000};

std::string encodeTerminate(std::chrono::milliseconds grace);
std::chrono::milliseconds decodeTerminate(std::span<const std::byte> head) noexcept;

// The reason as it goes on the wire: at most kMaxReasonBytes, not cut inside a UTF-8 sequence.
std::string_view encodeReason(std::string_view reason) noexcept;
std::string decodeReason(std::span<const std::byte> head);

inline std::span<const std::byte> bytesOf(std::string_view s) noexcept {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view textOf(std::span<const std::byte> b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace buntime::proto
