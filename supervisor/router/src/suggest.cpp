// SPDX-License-Identifier: MIT
// Edit distance and the closest-word choice behind "did you mean".
#include "buntime/router/suggest.h"

#include <algorithm>
#include <vector>

namespace buntime::router {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string folded(std::string_view s) {
    std::string out;
    for (char c : s)
        if (c != '_' && c != '-') out.push_back(lower(c));
    return out;
}

}  // namespace

std::size_t editDistance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    // Three rows: the one before the previous is needed for a swap of neighbours.
    std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
    for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= m; ++j) {
            const bool same = lower(a[i - 1]) == lower(b[j - 1]);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
        }
        std::swap(prev2, prev);
        std::swap(prev, cur);
    }
    return prev[m];
}

std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates) {
    const std::string w = folded(word);
    for (auto c : candidates)
        if (folded(c) == w) return std::string(c);
    std::string best;
    std::size_t best_distance = 3;
    for (auto c : candidates) {
        const std::size_t d = editDistance(word, c);
        if (d < best_distance && d * 2 < word.size()) {
            best = std::string(c);
            best_distance = d;
        }
    }
    return best;
}

}  // namespace buntime::router
