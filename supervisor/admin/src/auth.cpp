// SPDX-License-Identifier: MIT
// Constant-time bearer-token comparison for mutating admin calls.
#include "buntime/admin/auth.h"

#include <cstddef>

namespace buntime::admin {

bool tokenMatches(std::string_view header, std::string_view token) {
    if (token.empty()) return false;
    constexpr std::string_view kBearer = "Bearer ";
    if (!header.starts_with(kBearer)) return false;
    const auto presented = header.substr(kBearer.size());
    unsigned diff = presented.size() == token.size() ? 0u : 1u;
    for (std::size_t i = 0; i < presented.size(); ++i)
        diff |= static_cast<unsigned>(presented[i] ^ token[i % token.size()]);
    return diff == 0;
}

}  // namespace buntime::admin
