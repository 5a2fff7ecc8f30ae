// SPDX-License-Identifier: MIT
// Fuzz target: the request-head decoder (proto::decodeRequestHead / decodeRequestHeadInto) on arbitrary bytes.
//
// Properties: no crash; decodeRequestHead succeeds ⇒ encode(decoded) == input;
// decodeRequestHeadInto a head still holding a previous, larger request gives the same
// verdict and the same fields as decoding into a fresh head.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "buntime/proto/messages.h"
#include "fuzz_check.h"
#include "proto_samples.h"

using namespace buntime;

namespace {

// A head still holding a previous request with longer fields and more headers than most
// inputs, so decodeRequestHeadInto must clear or shrink every one of them.
proto::RequestHead previousRequest() {
    proto::RequestHead h = buntime::test::sampleRequestHead();
    h.method = "POST";
    h.path = "/greet/with/a/much/longer/path";
    h.target = h.base + h.path + "?" + h.query;
    for (int i = 0; i < 6; ++i) h.headers.emplace_back("x-header-" + std::to_string(i), std::string(40, char('a' + i)));
    h.content_length = 12345;
    return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    const auto decoded = proto::decodeRequestHead(bytes);
    if (decoded) {
        const auto again = proto::encode(*decoded);
        FUZZ_CHECK(again.size() == size);
        FUZZ_CHECK(size == 0 || std::memcmp(again.data(), data, size) == 0);
    }

    proto::RequestHead reused = previousRequest();
    const bool reused_ok = proto::decodeRequestHeadInto(bytes, reused);
    FUZZ_CHECK(reused_ok == decoded.has_value());
    if (reused_ok) FUZZ_CHECK(reused == *decoded);
    return 0;
}
