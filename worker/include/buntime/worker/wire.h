// SPDX-License-Identifier: MIT
// Allocation-free twins of the proto:: head codecs for the worker's hot path: the same
// wire format (buntime/protocol.h, protocol.cpp; tests check byte equality), but decoding
// into an existing RequestHead (reusing its strings' capacity) and building a ResponseHead
// incrementally in one reusable buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "buntime/protocol.h"

namespace buntime::worker::wire {

// Same result as proto::decodeRequestHead (false where it returns nullopt).
bool decodeRequestHeadInto(std::span<const std::byte> bytes, proto::RequestHead& out);

// A response head built header by header: [u16 status][u32 count][headers...], then
// finish() appends content length and timing. Not thread-safe (one response, one holder).
class ResponseHeadBuilder {
public:
    ResponseHeadBuilder() { reset(); }
    void reset();
    void addHeader(std::string_view name, std::string_view value);
    std::uint32_t count() const noexcept { return count_; }
    // Stamps status and count, appends the length and the timing fields of
    // proto::ResponseHead; call once per response. The span is valid until reset().
    std::span<const std::byte> finish(std::uint16_t status, std::int64_t content_length, std::uint64_t request_received_ns,
                                      std::uint64_t handler_ns, std::uint64_t sent_ns);

private:
    std::string buf_;
    std::uint32_t count_ = 0;
};

} // namespace buntime::worker::wire
