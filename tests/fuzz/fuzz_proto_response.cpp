// SPDX-License-Identifier: MIT
// Fuzz target: the supervisor's decoder of response heads a worker wrote (untrusted bytes).
//
// Properties: no crash; decodeResponseHead succeeds ⇒ the status is 100..999, and
// proto::encode and a reused (reset) ResponseHeadBuilder both reproduce the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "buntime/proto/messages.h"
#include "fuzz_check.h"

using namespace buntime;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    const auto decoded = proto::decodeResponseHead(bytes);
    if (!decoded) return 0;
    FUZZ_CHECK(decoded->status >= 100 && decoded->status <= 999);

    const auto again = proto::encode(*decoded);
    FUZZ_CHECK(again.size() == size);
    FUZZ_CHECK(std::memcmp(again.data(), data, size) == 0);

    proto::ResponseHeadBuilder builder;
    builder.addHeader("stale", "header");  // reset() must forget it
    builder.reset();
    for (const auto& [name, value] : decoded->headers) builder.addHeader(name, value);
    FUZZ_CHECK(builder.count() == decoded->headers.size());
    const auto built = builder.finish(decoded->status, decoded->content_length, decoded->request_received_ns,
                                      decoded->handler_ns, decoded->sent_ns);
    FUZZ_CHECK(built.size() == size);
    FUZZ_CHECK(std::memcmp(built.data(), data, size) == 0);
    return 0;
}
