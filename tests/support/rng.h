// SPDX-License-Identifier: MIT
// xorshift64*: the same sequence on every machine for a given seed, for payloads and fuzz
// mutations that must be reproducible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace buntime::test {

struct Rng {
    std::uint64_t s;
    explicit Rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    std::uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 2685821657736338717ull;
    }
    // Uniform enough in [0, n); 0 when n is 0.
    std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

// `n` bytes that depend on (seed, index) only.
inline void fill(std::vector<std::byte>& v, std::size_t n, std::uint64_t seed) {
    v.resize(n);
    Rng r(seed);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t x = r.next();
        std::memcpy(v.data() + i, &x, 8);
    }
    for (std::uint64_t x = r.next(); i < n; ++i, x >>= 8) v[i] = std::byte(x & 0xff);
}

inline std::uint64_t fnv1a(std::span<const std::byte> data) {
    std::uint64_t h = 1469598103934665603ull;
    for (std::byte b : data) {
        h ^= std::uint64_t(b);
        h *= 1099511628211ull;
    }
    return h;
}

}  // namespace buntime::test
