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

#include "buntime/proto/messages.h"
#include "fuzz_check.h"

using namespace buntime;

namespace {

bool sameHead(const proto::RequestHead& a, const proto::RequestHead& b) {
    return a.method == b.method && a.target == b.target && a.path == b.path && a.query == b.query && a.base == b.base &&
           a.request_id == b.request_id && a.headers == b.headers && a.content_length == b.content_length &&
           a.sent_ns == b.sent_ns;
}

proto::RequestHead previousRequest() {
    proto::RequestHead h;
    h.method = "POST";
    h.target = "/previous/request/with/a/long/target?and=query";
    h.path = "/request/with/a/long/target";
    h.query = "and=query";
    h.base = "/previous";
    h.request_id = "0123456789abcdef";
    for (int i = 0; i < 6; ++i) h.headers.emplace_back("x-header-" + std::to_string(i), std::string(40, char('a' + i)));
    h.content_length = 12345;
    h.sent_ns = 987654321;
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
    if (reused_ok) FUZZ_CHECK(sameHead(reused, *decoded));
    return 0;
}
