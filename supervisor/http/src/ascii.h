// SPDX-License-Identifier: MIT
// ASCII helpers shared by the HTTP library's sources (internal header, not installed).
#pragma once

#include <cstddef>
#include <string_view>

namespace buntime::http::detail {

// ASCII case-insensitive equality (header names and tokens; no locale).
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
        if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

}  // namespace buntime::http::detail
