// SPDX-License-Identifier: MIT
// Fuzz target: the supervisor's decoder of a worker's Ready message (untrusted bytes).
//
// Properties: no crash; decodeReadyInfo succeeds ⇒ encode(decoded) == input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "buntime/proto/messages.h"
#include "fuzz_check.h"

using namespace buntime;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    const auto decoded = proto::decodeReadyInfo(bytes);
    if (!decoded) return 0;
    const auto again = proto::encode(*decoded);
    FUZZ_CHECK(again.size() == size);
    FUZZ_CHECK(std::memcmp(again.data(), data, size) == 0);
    return 0;
}
