// SPDX-License-Identifier: MIT
// Fuzz target: semver versions and npm-style ranges (from URLs and directory names).
//
// Input: "<range>\n<version> <version> ...". Properties: no crash; a parsed version
// prints to text that parses back to the same version; comparison is antisymmetric;
// bestMatch returns one of the candidates, it satisfies the range, and no candidate
// that satisfies the range is higher.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/router/semver.h"
#include "fuzz_check.h"

using namespace buntime::router;

namespace {

std::strong_ordering reversed(std::strong_ordering o) {
    if (o == std::strong_ordering::less) return std::strong_ordering::greater;
    if (o == std::strong_ordering::greater) return std::strong_ordering::less;
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::size_t nl = text.find('\n');
    const std::string_view range_text = text.substr(0, nl);
    const std::string_view list = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);

    std::vector<std::string> candidates;
    std::vector<Version> parsed;
    for (std::size_t at = 0; at < list.size() && candidates.size() < 64;) {
        std::size_t end = list.find(' ', at);
        if (end == std::string_view::npos) end = list.size();
        candidates.emplace_back(list.substr(at, end - at));
        at = end + 1;
    }
    for (const auto& c : candidates) {
        auto v = Version::parse(c);
        if (!v) continue;
        const std::string printed = v->toString();
        auto back = Version::parse(printed);
        FUZZ_CHECK(back.has_value());
        FUZZ_CHECK(*back == *v);
        FUZZ_CHECK(back->toString() == printed);
        FUZZ_CHECK(back->build == v->build);
        parsed.push_back(std::move(v).value());
    }
    for (const auto& a : parsed)
        for (const auto& b : parsed) FUZZ_CHECK(compare(a, b) == reversed(compare(b, a)));

    // The range line alone is also tried as a version (URLs carry exact versions too).
    if (auto v = Version::parse(range_text)) FUZZ_CHECK(Version::parse(v->toString()).has_value());

    auto range = Range::parse(range_text);
    const auto best_text = bestMatch(range_text, candidates);
    if (!range) {
        FUZZ_CHECK(!best_text.has_value());
        return 0;
    }
    const auto best = bestMatch(*range, parsed);
    FUZZ_CHECK(best.has_value() == best_text.has_value());
    if (!best) {
        if (!range->isLatest())
            for (const auto& v : parsed) FUZZ_CHECK(!range->satisfies(v));
        return 0;
    }
    const auto best_parsed = Version::parse(*best_text);
    FUZZ_CHECK(best_parsed.has_value() && *best_parsed == *best);
    if (!range->isLatest()) {
        FUZZ_CHECK(range->satisfies(*best));
        for (const auto& v : parsed)
            if (range->satisfies(v)) FUZZ_CHECK(v <= *best);
    }
    return 0;
}
