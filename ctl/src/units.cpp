// SPDX-License-Identifier: MIT
// Human-readable units for the operator CLI: durations, byte sizes, percentages, display width.
#include "buntime/ctl/units.h"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace buntime::ctl {

namespace {

std::string printf1(const char* format, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value);
    return buffer;
}

// "1.0" → "1", "1.5" → "1.5".
std::string trimPointZero(std::string text) {
    if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) {
        text.resize(text.size() - 2);
    }
    return text;
}

std::string twoUnits(std::uint64_t major, const char* majorUnit, std::uint64_t minor, const char* minorUnit) {
    std::string text = std::to_string(major) + majorUnit;
    if (minor != 0) {
        text += std::to_string(minor) + minorUnit;
    }
    return text;
}

}  // namespace

std::string formatDuration(double ms) {
    if (!std::isfinite(ms) || ms < 0) {
        return "-";
    }
    if (ms == 0) {
        return "0s";
    }
    if (ms < 1) {
        return printf1("%.2fms", ms);
    }
    if (ms < 10) {
        return trimPointZero(printf1("%.1f", ms)) + "ms";
    }
    if (ms < 1000) {
        return printf1("%.0fms", ms);
    }
    if (ms < 60'000) {
        return trimPointZero(printf1("%.1f", ms / 1000)) + "s";
    }
    const auto seconds = static_cast<std::uint64_t>(ms / 1000);
    if (seconds < 3600) {
        return twoUnits(seconds / 60, "m", seconds % 60, "s");
    }
    if (seconds < 86'400) {
        return twoUnits(seconds / 3600, "h", (seconds % 3600) / 60, "m");
    }
    return twoUnits(seconds / 86'400, "d", (seconds % 86'400) / 3600, "h");
}

std::string formatBytes(double bytes) {
    if (!std::isfinite(bytes) || bytes < 0) {
        return "-";
    }
    if (bytes < 1024) {
        return printf1("%.0fB", bytes);
    }
    static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = bytes / 1024;
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    // Rounding may carry 1023.96 up to "1024"; that is still an honest reading.
    const std::string number = value < 100 ? trimPointZero(printf1("%.1f", value)) : printf1("%.0f", value);
    return number + units[unit];
}

std::string formatHitRate(double percent) { return formatPercent(percent / 100); }

std::string formatPercent(double ratio) {
    if (!std::isfinite(ratio) || ratio < 0) {
        return "-";
    }
    const double percent = ratio * 100;
    if (percent == 0) {
        return "0%";
    }
    if (percent < 100) {
        return printf1("%.1f%%", percent);
    }
    return printf1("%.0f%%", percent);
}

std::string formatNumber(double value) {
    if (!std::isfinite(value)) {
        return "-";
    }
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
        return printf1("%.0f", value);
    }
    std::string text = printf1("%.2f", value);
    while (!text.empty() && text.back() == '0') {
        text.pop_back();
    }
    if (!text.empty() && text.back() == '.') {
        text.pop_back();
    }
    return text;
}

std::size_t displayWidth(std::string_view text) {
    std::size_t width = 0;
    for (const char c : text) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
            ++width;
        }
    }
    return width;
}

std::string elide(std::string_view text, std::size_t width) {
    if (displayWidth(text) <= width) {
        return std::string(text);
    }
    if (width == 0) {
        return {};
    }
    // Keep width-1 code points, then the ellipsis.
    std::string out;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool start = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
        if (start && kept == width - 1) {
            break;
        }
        if (start) {
            ++kept;
        }
        out += text[i];
    }
    return out + "\u2026";
}

}  // namespace buntime::ctl
