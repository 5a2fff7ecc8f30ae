// SPDX-License-Identifier: MIT
// Version 4 UUID text.
#include "buntime/base/uuid.h"

namespace buntime::base {

void formatUuidV4(std::uint64_t hi, std::uint64_t lo, std::string& out) {
    hi = (hi & ~0xf000ULL) | 0x4000ULL;                  // version 4
    lo = (lo & ~(0xc000ULL << 48)) | (0x8000ULL << 48);  // variant 10xx
    static constexpr char hex[] = "0123456789abcdef";
    out.assign(36, '-');
    std::size_t pos = 0;
    auto put = [&](std::uint64_t v) {
        for (int i = 15; i >= 0; --i) {
            if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
            out[pos++] = hex[(v >> (i * 4)) & 15];
        }
    };
    put(hi);
    put(lo);
}

std::string formatUuidV4(std::uint64_t hi, std::uint64_t lo) {
    std::string out;
    formatUuidV4(hi, lo, out);
    return out;
}

}  // namespace buntime::base
