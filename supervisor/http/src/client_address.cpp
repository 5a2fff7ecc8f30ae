// SPDX-License-Identifier: MIT
// IP parsing, CIDR matching and the X-Forwarded-For walk behind RUNTIME_TRUSTED_PROXIES.
#include "buntime/http/client_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "buntime/base/ascii.h"

namespace buntime::http {

namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// "\"entry\"" built by appends: operator+ on a literal trips a g++ 12 -Wrestrict false positive.
std::string quoted(std::string_view entry) {
    std::string q;
    q.reserve(entry.size() + 2);
    q.push_back('"');
    q.append(entry);
    q.push_back('"');
    return q;
}

bool isMapped(const std::array<std::uint8_t, 16>& b) {
    return std::memcmp(b.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    text = base::trim(text);
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (text.empty() || text.size() > 64) return std::nullopt;
    const std::string s(text);
    IpAddress ip;
    in_addr v4{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        std::memcpy(ip.bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
        std::memcpy(ip.bytes.data() + 12, &v4, 4);
        ip.v4 = true;
        return ip;
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
    std::memcpy(ip.bytes.data(), &v6, 16);
    ip.v4 = isMapped(ip.bytes);
    return ip;
}

std::string IpAddress::toString() const {
    char out[INET6_ADDRSTRLEN] = {0};
    if (v4)
        ::inet_ntop(AF_INET, bytes.data() + 12, out, sizeof out);
    else
        ::inet_ntop(AF_INET6, bytes.data(), out, sizeof out);
    return out;
}

base::Expected<TrustedProxies, std::string> TrustedProxies::parse(std::string_view spec) {
    TrustedProxies out;
    for (std::size_t start = 0; start <= spec.size();) {
        std::size_t end = spec.find(',', start);
        if (end == std::string_view::npos) end = spec.size();
        const std::string_view entry = base::trim(spec.substr(start, end - start));
        start = end + 1;
        if (entry.empty()) continue;
        const std::size_t slash = entry.find('/');
        auto ip = IpAddress::parse(entry.substr(0, slash));
        if (!ip) return quoted(entry).append(" is not an IP address or CIDR block");
        Block b{*ip, 128};
        if (slash != std::string_view::npos) {
            const std::string_view bits = entry.substr(slash + 1);
            unsigned n = 0;
            auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n);
            const unsigned max = ip->v4 ? 32 : 128;
            if (bits.empty() || ec != std::errc() || p != bits.data() + bits.size() || n > max)
                return quoted(entry).append(": the prefix length must be 0..").append(std::to_string(max));
            b.prefix = ip->v4 ? 96 + n : n;
        }
        out.blocks_.push_back(b);
    }
    return out;
}

bool TrustedProxies::contains(const IpAddress& ip) const noexcept {
    for (const auto& b : blocks_) {
        const unsigned full = b.prefix / 8, rest = b.prefix % 8;
        if (std::memcmp(ip.bytes.data(), b.base.bytes.data(), full) != 0) continue;
        if (rest != 0) {
            const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
            if ((ip.bytes[full] & mask) != (b.base.bytes[full] & mask)) continue;
        }
        return true;
    }
    return false;
}

std::string_view stripPort(std::string_view remote) noexcept {
    if (remote.starts_with('[')) {
        const auto close = remote.find(']');
        return close == std::string_view::npos ? remote : remote.substr(1, close - 1);
    }
    const auto colon = remote.find(':');
    if (colon != std::string_view::npos && remote.find(':', colon + 1) == std::string_view::npos)
        return remote.substr(0, colon);
    return remote;
}

std::string clientAddress(std::string_view peer_text, const Headers& headers, const TrustedProxies& trusted) {
    auto peer = IpAddress::parse(stripPort(peer_text));
    if (!peer) return {};
    if (trusted.empty() || !trusted.contains(*peer)) return peer->toString();
    // Every X-Forwarded-For field, in order, is one comma-separated list.
    std::vector<std::string_view> hops;
    for (const auto& [name, value] : headers) {
        if (!base::iequals(name, "x-forwarded-for")) continue;
        std::string_view v = value;
        for (std::size_t start = 0; start <= v.size();) {
            std::size_t end = v.find(',', start);
            if (end == std::string_view::npos) end = v.size();
            hops.push_back(base::trim(v.substr(start, end - start)));
            start = end + 1;
        }
    }
    IpAddress client = *peer;
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        auto hop = IpAddress::parse(stripPort(*it));
        if (!hop) break;  // garbage: the proxy that added it is the last address we can vouch for
        client = *hop;
        if (!trusted.contains(*hop)) break;
    }
    return client.toString();
}

}  // namespace buntime::http
