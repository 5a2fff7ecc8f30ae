// SPDX-License-Identifier: MIT
// Human-readable units for the operator CLI: durations, byte sizes, percentages, display width.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace buntime::ctl {

// "0.30ms", "12ms", "1.5s", "5m", "1m30s", "2h5m", "3d4h"; negative or non-finite gives "-".
std::string formatDuration(double ms);

// "512B", "3.3KiB", "12.5MiB", "256MiB", "1.2GiB"; negative or non-finite gives "-".
std::string formatBytes(double bytes);

// ratio 0..1 → "0%", "0.8%", "99.0%", "100%"; one decimal below 100%.
std::string formatPercent(double ratio);
// The supervisor's hitRate is already a percentage (0..100), as the seed reports it.
std::string formatHitRate(double percent);

// A plain number, at most two decimals, no trailing zeros: 12 → "12", 0.4 → "0.4".
std::string formatNumber(double value);

// Terminal columns a UTF-8 string occupies (one per code point; the CLI prints no wide glyphs).
std::size_t displayWidth(std::string_view text);

// Cuts text to at most `width` columns, ending in "…" when something was cut.
std::string elide(std::string_view text, std::size_t width);

}  // namespace buntime::ctl
