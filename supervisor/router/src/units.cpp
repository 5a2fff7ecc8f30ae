// SPDX-License-Identifier: MIT
// Parsing of durations and sizes: a decimal number and an optional unit suffix.
#include "buntime/router/units.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>

namespace buntime::router {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Splits "1.5 mb" into a non-negative decimal number and a lowercase unit. The number is
// digits with at most one '.', at least one digit; no sign, no exponent.
bool splitNumber(std::string_view text, double& number, std::string& unit, bool& integral) {
    std::size_t i = 0;
    bool digit_seen = false, dot_seen = false;
    while (i < text.size()) {
        char c = text[i];
        if (c >= '0' && c <= '9') {
            digit_seen = true;
        } else if (c == '.' && !dot_seen) {
            dot_seen = true;
        } else {
            break;
        }
        ++i;
    }
    if (!digit_seen) return false;
    std::string num(text.substr(0, i));
    char* end = nullptr;
    number = std::strtod(num.c_str(), &end);
    if (end != num.c_str() + num.size() || !std::isfinite(number)) return false;
    integral = !dot_seen;
    unit = lower(trim(text.substr(i)));
    return true;
}

}  // namespace

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
    auto bad = [&](std::string_view why = {}) {
        std::string msg = "invalid duration \"" + std::string(text) + '"';
        if (!why.empty()) msg += std::string(" (") + std::string(why) + ')';
        return makeError(ErrorCode::InvalidValue, std::move(msg));
    };
    std::string_view t = trim(text);
    if (t.starts_with('-')) return bad("negative");
    double number = 0;
    std::string unit;
    bool integral = false;
    if (!splitNumber(t, number, unit, integral)) return bad();
    static constexpr std::pair<std::string_view, double> units[] = {
        {"", 1e3},           {"ms", 1.0},          {"msec", 1.0},
        {"msecs", 1.0},      {"millisecond", 1.0}, {"milliseconds", 1.0},
        {"s", 1e3},          {"sec", 1e3},         {"secs", 1e3},
        {"second", 1e3},     {"seconds", 1e3},     {"m", 6e4},
        {"min", 6e4},        {"mins", 6e4},        {"minute", 6e4},
        {"minutes", 6e4},    {"h", 3.6e6},         {"hr", 3.6e6},
        {"hrs", 3.6e6},      {"hour", 3.6e6},      {"hours", 3.6e6},
        {"d", 8.64e7},       {"day", 8.64e7},      {"days", 8.64e7},
        {"w", 6.048e8},      {"week", 6.048e8},    {"weeks", 6.048e8},
        {"y", 3.1536e10},    {"yr", 3.1536e10},    {"yrs", 3.1536e10},
        {"year", 3.1536e10}, {"years", 3.1536e10},
    };
    double factor = -1;
    for (auto [name, f] : units)
        if (unit == name) factor = f;
    if (factor < 0) return bad("unknown unit");
    double ms = number * factor;
    // 2^62 ms is ~146 million years: anything above is a typo, and the cast stays defined.
    if (ms >= 4.6e18) return bad("too large");
    return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

Result<std::uint64_t> parseSize(std::string_view text) {
    auto bad = [&](std::string_view why = {}) {
        std::string msg = "invalid size \"" + std::string(text) + '"';
        if (!why.empty()) msg += std::string(" (") + std::string(why) + ')';
        return makeError(ErrorCode::InvalidValue, std::move(msg));
    };
    std::string_view t = trim(text);
    if (t.starts_with('-')) return bad("negative");
    double number = 0;
    std::string unit;
    bool integral = false;
    if (!splitNumber(t, number, unit, integral)) return bad();
    double factor = -1;
    if (unit.empty() || unit == "b")
        factor = 1;
    else if (unit == "kb" || unit == "k")
        factor = 1024.0;
    else if (unit == "mb" || unit == "m")
        factor = 1024.0 * 1024;
    else if (unit == "gb" || unit == "g")
        factor = 1024.0 * 1024 * 1024;
    else if (unit == "tb" || unit == "t")
        factor = 1024.0 * 1024 * 1024 * 1024;
    if (factor < 0) return bad("unknown unit");
    if (factor == 1 && !integral) return bad("fractional bytes");
    double bytes = number * factor;
    if (bytes >= 9.2e18) return bad("too large");
    if (integral && factor == 1) {
        std::string digits(t.substr(0, t.find_first_not_of("0123456789")));
        return static_cast<std::uint64_t>(std::strtoull(digits.c_str(), nullptr, 10));
    }
    return static_cast<std::uint64_t>(bytes);
}

std::string formatDuration(std::chrono::milliseconds d) {
    static constexpr std::pair<std::int64_t, const char*> steps[] = {
        {604800000, "w"}, {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    std::int64_t ms = d.count();
    if (ms != 0)
        for (auto [f, name] : steps)
            if (ms % f == 0) return std::to_string(ms / f) + name;
    return std::to_string(ms) + "ms";
}

}  // namespace buntime::router
