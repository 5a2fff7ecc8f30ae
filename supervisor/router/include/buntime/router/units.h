// SPDX-License-Identifier: MIT
// Duration and byte-size values of manifest keys ("30s", 1.5, "10mb") as typed values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "buntime/router/result.h"

namespace buntime::router {

// A number (integer or decimal, no unit) is seconds: "30" → 30 s, "1.5" → 1500 ms.
// With a unit (case-insensitive, optional spaces between): ms, s, m, h, d, w, y
// (y = 365 d) and the long forms msec(s)/millisecond(s), sec(s)/second(s),
// min(s)/minute(s), hr(s)/hour(s), day(s), week(s), yr(s)/year(s). Fractions of a
// millisecond are truncated. Negative values, empty text and overflow are errors.
Result<std::chrono::milliseconds> parseDuration(std::string_view text);

// Plain integer = bytes. With a unit (case-insensitive, powers of 1024): b, kb/k,
// mb/m, gb/g, tb/t; decimals allowed with a unit ("1.5mb"), truncated to whole bytes.
Result<std::uint64_t> parseSize(std::string_view text);

}  // namespace buntime::router
