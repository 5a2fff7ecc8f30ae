// SPDX-License-Identifier: MIT
// Semantic versions (semver 2.0.0 precedence) and npm-style ranges used by /<app>@<range>.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/router/result.h"

namespace buntime::router {

// MAJOR.MINOR.PATCH[-prerelease][+build]. Strict: no leading zeros in numeric parts, no
// 'v' prefix (directory names must be exact). Build metadata is kept but never compared.
struct Version {
    std::uint64_t major = 0;
    std::uint64_t minor = 0;
    std::uint64_t patch = 0;
    std::vector<std::string> prerelease;  // dot-separated identifiers, empty = release
    std::string build;                    // without '+'

    bool isPrerelease() const noexcept { return !prerelease.empty(); }
    std::string toString() const;  // canonical text, build included

    static Result<Version> parse(std::string_view text);
};

// Semver precedence: numeric identifiers numerically, alphanumeric ones in ASCII order,
// numeric < alphanumeric, a release > any of its prereleases; build ignored. So two
// versions differing only by build compare equal.
std::strong_ordering compare(const Version& a, const Version& b) noexcept;
inline bool operator==(const Version& a, const Version& b) noexcept {
    return compare(a, b) == std::strong_ordering::equal;
}
inline std::strong_ordering operator<=>(const Version& a, const Version& b) noexcept { return compare(a, b); }

// A parsed range with npm semantics. Grammar: sets joined by "||"; a set is comparators
// separated by whitespace (AND) or one hyphen range "A - B". Comparators: exact "1.2.3",
// partial "1" "1.2" "1.x" "1.2.*" "*" "x", caret "^1.2.3" (^0.x rules), tilde "~1.2.3",
// operators ">=" ">" "<" "<=" "=" with full or partial versions; an optional 'v' before a
// version and spaces after an operator are accepted. "latest" (or an empty text) means the
// highest release, falling back to the highest prerelease when there is no release.
// A prerelease version matches a set only if some comparator of that set carries a
// prerelease on the same major.minor.patch (npm rule), e.g. ">=1.2.3-beta.1" admits
// 1.2.3-beta.2 but not 1.2.4-beta. With include_prerelease (the seed runtime's
// maxSatisfying(..., {includePrerelease: true}), which app routing uses) a prerelease matches
// like any version: ^1.0.0 admits 1.5.0-beta but not 2.0.0-beta (the upper bound is <2.0.0-0).
// Immutable after parse; safe to share between threads.
class Range {
public:
    static Result<Range> parse(std::string_view text);

    bool satisfies(const Version& v, bool include_prerelease = false) const;
    bool isLatest() const noexcept { return latest_; }
    const std::string& text() const noexcept { return text_; }

    enum class Op : std::uint8_t { Eq, Lt, Le, Gt, Ge, Any };
    struct Comparator {
        Op op = Op::Any;
        Version version;
    };

private:
    std::string text_;
    bool latest_ = false;
    std::vector<std::vector<Comparator>> sets_;  // OR of ANDs
};

// The highest version that satisfies the range; std::nullopt when none does.
std::optional<Version> bestMatch(const Range& range, std::span<const Version> versions,
                                 bool include_prerelease = false);

// Text convenience: unparsable versions are skipped; an unparsable range yields nullopt.
// Returns the matching element of `versions` as written.
std::optional<std::string> bestMatch(std::string_view range, std::span<const std::string> versions);

}  // namespace buntime::router
