// SPDX-License-Identifier: MIT
// RequestHead helpers and request-id generation.
#include "buntime/http/request_head.h"

#include <cstdint>
#include <random>

#include "buntime/base/ascii.h"

namespace buntime::http {

namespace {

// xoshiro256** seeded from std::random_device, one per thread.
struct Rng {
    std::uint64_t s[4];
    Rng() {
        std::random_device rd;
        for (auto& w : s) w = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    }
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t next() {
        std::uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
};

}  // namespace

const std::string* RequestHead::find(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers)
        if (base::iequals(k, name)) return &v;
    return nullptr;
}

std::string_view RequestHead::path() const noexcept {
    std::string_view t = target;
    auto q = t.find('?');
    return q == std::string_view::npos ? t : t.substr(0, q);
}

void RequestHead::clear() noexcept {
    method.clear();
    target.clear();
    version = 11;
    headers.clear();
    content_length.reset();
    chunked = false;
    keep_alive = true;
    expect_continue = false;
    request_id.clear();
    remote.clear();
    from_admin_socket = false;
}

bool isValidRequestId(std::string_view id) noexcept {
    if (id.empty() || id.size() > 200) return false;
    for (char c : id)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) return false;
    return true;
}

std::string newRequestId() {
    std::string out;
    assignNewRequestId(out);
    return out;
}

void assignNewRequestId(std::string& out) {
    thread_local Rng rng;
    std::uint64_t hi = rng.next(), lo = rng.next();
    hi = (hi & ~0xf000ULL) | 0x4000ULL;                  // version 4
    lo = (lo & ~(0xc000ULL << 48)) | (0x8000ULL << 48);  // variant 10xx
    static constexpr char hex[] = "0123456789abcdef";
    out.assign(36, '-');
    std::size_t pos = 0;
    auto put = [&](std::uint64_t v, int nibbles) {
        for (int i = nibbles - 1; i >= 0; --i) {
            if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
            out[pos++] = hex[(v >> (i * 4)) & 15];
        }
    };
    put(hi, 16);
    put(lo, 16);
}

}  // namespace buntime::http
