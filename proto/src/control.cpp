// SPDX-License-Identifier: MIT
// Control message payloads: terminate grace and reason text.
#include "buntime/proto/control.h"

#include <charconv>

namespace buntime::proto {
namespace {

// Cuts at most `limit` bytes without splitting a UTF-8 sequence (continuation bytes are
// 10xxxxxx); bytes that are not UTF-8 at all are cut where the limit falls.
std::string_view cutAtBoundary(std::string_view text, std::size_t limit) noexcept {
    if (text.size() <= limit) return text;
    std::size_t end = limit;
    for (int back = 0; back < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80; ++back) --end;
    if ((static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) end = limit;
    return text.substr(0, end);
}

}  // namespace

std::string encodeTerminate(std::chrono::milliseconds grace) {
    return std::to_string(grace.count() < 0 ? 0 : grace.count());
}

std::chrono::milliseconds decodeTerminate(std::span<const std::byte> head) noexcept {
    const auto text = textOf(head);
    std::uint64_t ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || ms > (std::uint64_t(1) << 40))
        return kDefaultTerminateGrace;
    return std::chrono::milliseconds(ms);
}

std::string_view encodeReason(std::string_view reason) noexcept { return cutAtBoundary(reason, kMaxReasonBytes); }

std::string decodeReason(std::span<const std::byte> head) {
    return std::string(cutAtBoundary(textOf(head), kMaxReasonBytes));
}

}  // namespace buntime::proto
