// SPDX-License-Identifier: MIT
// RequestHead helpers and request-id generation.
#include "buntime/http/request_head.h"

#include <algorithm>
#include <cstdint>
#include <random>

#include "buntime/base/ascii.h"
#include "buntime/base/uuid.h"

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

bool normalizeTargetAndHost(RequestHead& head) {
    std::string_view t = head.target;
    std::size_t scheme = 0;
    if (t.size() >= 7 && base::iequals(t.substr(0, 7), "http://"))
        scheme = 7;
    else if (t.size() >= 8 && base::iequals(t.substr(0, 8), "https://"))
        scheme = 8;
    if (scheme) {
        std::string_view rest = t.substr(scheme);
        const std::size_t end = std::min(rest.find('/'), rest.find('?'));
        const std::string_view authority = rest.substr(0, end);
        // No empty host, no userinfo (RFC 9110 §4.2.4), nothing a Host field may not hold.
        if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
        for (char c : authority)
            if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
        std::string origin = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
        if (origin.front() == '?') origin.insert(0, 1, '/');
        // RFC 9112 §3.2.2: the authority replaces any Host field the client sent.
        std::erase_if(head.headers, [](const auto& kv) { return base::iequals(kv.first, "host"); });
        head.headers.emplace_back("Host", std::string(authority));
        head.target = std::move(origin);
        return true;
    }
    if (head.version < 11) return true;
    // RFC 9112 §3.2: an HTTP/1.1 request without Host, or with more than one, is a 400.
    int hosts = 0;
    for (const auto& kv : head.headers)
        if (base::iequals(kv.first, "host")) ++hosts;
    return hosts == 1;
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
    const std::uint64_t hi = rng.next(), lo = rng.next();
    base::formatUuidV4(hi, lo, out);
}

}  // namespace buntime::http
