// SPDX-License-Identifier: MIT
// ASCII helpers for protocol text (header names, tokens, keys): no locale, no allocation
// unless a string is returned.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace buntime::base {

constexpr char toLower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }
constexpr char toUpper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c; }
constexpr bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool isSpace(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Case-insensitive equality of ASCII letters; other bytes compare exactly.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (toLower(a[i]) != toLower(b[i])) return false;
    }
    return true;
}

constexpr bool istartsWith(std::string_view text, std::string_view prefix) noexcept {
    return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

inline std::string toLower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = toLower(c);
    return out;
}

inline std::string toUpper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = toUpper(c);
    return out;
}

// Without leading and trailing ASCII whitespace.
constexpr std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
    return s;
}

// 0..15 for a hex digit, -1 otherwise.
constexpr int hexValue(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// %XX escapes decoded (any byte, including "%00" and "%2F"); nullopt on a malformed one
// ("%4", "%zz"). '+' stays '+': this is for paths, not form bodies.
inline std::optional<std::string> percentDecode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        const int hi = hexValue(text[i + 1]), lo = hexValue(text[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

}  // namespace buntime::base
