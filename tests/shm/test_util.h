// SPDX-License-Identifier: MIT
// Helpers shared by the shm test suites: channel pairs, deterministic payloads, checksums.
#pragma once

#include <fcntl.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "buntime/shm/channel.h"

namespace buntime::shm::test {

using namespace std::chrono_literals;

// doctest finds shm::toString(Error) by ADL and cannot print a string_view, so suites
// compare error names: CHECK(name(e) == "Ok").
inline std::string name(Error e) { return std::string(toString(e)); }

inline int dupFd(int fd) { return ::fcntl(fd, F_DUPFD_CLOEXEC, 0); }

inline ChannelFds dupFds(const ChannelFds& f) {
    return {dupFd(f.segment), dupFd(f.to_worker_data), dupFd(f.to_worker_space), dupFd(f.to_supervisor_data),
            dupFd(f.to_supervisor_space)};
}

// Both ends of one channel inside this process (the worker end maps duplicated fds).
struct Pair {
    Channel sup;
    Channel wrk;
};

inline Pair makePair(std::size_t ring_bytes, std::chrono::nanoseconds spin = 0ns, std::uint32_t generation = 7) {
    ChannelConfig cfg;
    cfg.ring_bytes = ring_bytes;
    cfg.generation = generation;
    cfg.spin = spin;
    auto sup = Channel::create(cfg);
    if (!sup) std::abort();
    auto wrk = Channel::open(dupFds(sup->fds()), spin);
    if (!wrk) std::abort();
    return Pair{std::move(sup).value(), std::move(wrk).value()};
}

// xorshift64*: payload bytes that depend on (seed, index) only.
struct Rng {
    std::uint64_t s;
    explicit Rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    std::uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 2685821657736338717ull;
    }
};

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

}  // namespace buntime::shm::test
