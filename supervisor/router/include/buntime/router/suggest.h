// SPDX-License-Identifier: MIT
// Did-you-mean suggestions: the closest known word to a misspelled one (edit distance).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace buntime::router {

// Optimal string alignment distance (insertions, deletions, substitutions and swaps of two
// neighbours each cost 1), ASCII case-insensitive.
std::size_t editDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or "" when none is close: a candidate equal to `word`
// ignoring case, '_' and '-' (max_requests → maxRequests), else the nearest within distance
// 2 and less than half of `word`'s length; ties go to the earlier candidate.
std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace buntime::router
