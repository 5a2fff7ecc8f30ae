// SPDX-License-Identifier: MIT
// Parsing of durations and sizes: a decimal number and an optional unit suffix.
#include "buntime/router/units.h"

#include <cmath>
#include <cstdlib>
#include <span>
#include <string>
#include <utility>

#include "buntime/base/ascii.h"

namespace buntime::router {

namespace {

struct Unit {
    std::string_view name;  // lowercase; "" is the bare number
    double factor;          // result units per input unit
};

// A number parsed by parseScaled: the scaled value, and what parseSize needs to keep
// integers exact.
struct Scaled {
    double value = 0;
    double factor = 1;
    bool integral = false;    // the number had no '.'
    std::string_view digits;  // the number's text
};

// How one kind of value is read.
struct ScaleRules {
    std::string_view what;         // "duration", "size": named in the error message
    std::span<const Unit> units;   // the accepted units
    double limit;                  // values >= limit are "too large"
    bool whole_base_unit = false;  // a number without unit (or with a factor-1 unit) must be whole
};

// "<number> [unit]" with surrounding spaces, the unit case-insensitive and looked up in
// `rules.units`. The number is digits with at most one '.', at least one digit; no sign,
// no exponent.
Result<Scaled> parseScaled(std::string_view text, const ScaleRules& rules) {
    auto bad = [&](std::string_view why = {}) {
        std::string msg = "invalid " + std::string(rules.what) + " \"" + std::string(text) + '"';
        if (!why.empty()) msg += " (" + std::string(why) + ')';
        return makeError(ErrorCode::InvalidValue, std::move(msg));
    };
    std::string_view t = base::trim(text);
    if (t.starts_with('-')) return bad("negative");
    std::size_t i = 0;
    bool digit_seen = false, dot_seen = false;
    for (; i < t.size(); ++i) {
        if (base::isDigit(t[i])) {
            digit_seen = true;
        } else if (t[i] == '.' && !dot_seen) {
            dot_seen = true;
        } else {
            break;
        }
    }
    if (!digit_seen) return bad();
    Scaled out;
    out.digits = t.substr(0, i);
    out.integral = !dot_seen;
    std::string num(out.digits);
    char* end = nullptr;
    double number = std::strtod(num.c_str(), &end);
    if (end != num.c_str() + num.size() || !std::isfinite(number)) return bad();
    const std::string unit = base::toLower(base::trim(t.substr(i)));
    const Unit* found = nullptr;
    for (const auto& u : rules.units)
        if (unit == u.name) found = &u;
    if (found == nullptr) return bad("unknown unit");
    if (rules.whole_base_unit && found->factor == 1 && !out.integral) return bad("fractional bytes");
    out.factor = found->factor;
    out.value = number * found->factor;
    if (out.value >= rules.limit) return bad("too large");
    return out;
}

constexpr Unit kDurationUnits[] = {
    {"", 1e3},
    {"ms", 1.0},
    {"msec", 1.0},
    {"msecs", 1.0},
    {"millisecond", 1.0},
    {"milliseconds", 1.0},
    {"s", 1e3},
    {"sec", 1e3},
    {"secs", 1e3},
    {"second", 1e3},
    {"seconds", 1e3},
    {"m", 6e4},
    {"min", 6e4},
    {"mins", 6e4},
    {"minute", 6e4},
    {"minutes", 6e4},
    {"h", 3.6e6},
    {"hr", 3.6e6},
    {"hrs", 3.6e6},
    {"hour", 3.6e6},
    {"hours", 3.6e6},
    {"d", 8.64e7},
    {"day", 8.64e7},
    {"days", 8.64e7},
    {"w", 6.048e8},
    {"week", 6.048e8},
    {"weeks", 6.048e8},
    // A year is 365.25 days, as the seed's ms() counts it.
    {"y", 3.15576e10},
    {"yr", 3.15576e10},
    {"yrs", 3.15576e10},
    {"year", 3.15576e10},
    {"years", 3.15576e10},
};

constexpr Unit kSizeUnits[] = {
    {"", 1.0},
    {"b", 1.0},
    {"kb", 1024.0},
    {"k", 1024.0},
    {"mb", 1024.0 * 1024},
    {"m", 1024.0 * 1024},
    {"gb", 1024.0 * 1024 * 1024},
    {"g", 1024.0 * 1024 * 1024},
    {"tb", 1024.0 * 1024 * 1024 * 1024},
    {"t", 1024.0 * 1024 * 1024 * 1024},
};

// Durations stop at 2^62 ms (~146 million years) and sizes at 2^63 bytes: anything above
// is a typo, and the casts below stay defined.
constexpr ScaleRules kDuration{"duration", kDurationUnits, 4.6e18, false};
constexpr ScaleRules kSize{"size", kSizeUnits, 9.2e18, true};

}  // namespace

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
    auto scaled = parseScaled(text, kDuration);
    if (!scaled) return std::move(scaled).error();
    return std::chrono::milliseconds(static_cast<std::int64_t>(scaled->value));
}

Result<std::uint64_t> parseSize(std::string_view text) {
    auto scaled = parseScaled(text, kSize);
    if (!scaled) return std::move(scaled).error();
    // Plain bytes are read as an integer: a double would round above 2^53.
    if (scaled->integral && scaled->factor == 1)
        return static_cast<std::uint64_t>(std::strtoull(std::string(scaled->digits).c_str(), nullptr, 10));
    return static_cast<std::uint64_t>(scaled->value);
}

}  // namespace buntime::router
