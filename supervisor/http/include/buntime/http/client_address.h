// SPDX-License-Identifier: MIT
// The client address of a request: the peer, or behind trusted proxies the right-most
// X-Forwarded-For address that is not itself a trusted proxy (nginx's real_ip_recursive).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/base/expected.h"
#include "buntime/http/request_head.h"

namespace buntime::http {

// An IPv4 or IPv6 address as 16 bytes (IPv4 as ::ffff:a.b.c.d, so an IPv4 client reached
// over an IPv6 socket matches an IPv4 entry).
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};
    bool v4 = false;

    // "192.0.2.1", "2001:db8::1", "[2001:db8::1]", "::ffff:192.0.2.1"; nullopt otherwise.
    static std::optional<IpAddress> parse(std::string_view text);
    std::string toString() const;  // "192.0.2.1" for IPv4 (also when mapped), else RFC 5952 IPv6
};

// RUNTIME_TRUSTED_PROXIES: a comma-separated list of IP addresses and CIDR blocks, IPv4 and
// IPv6 ("10.0.0.0/8, 192.0.2.7, fd00::/8"). Empty: no proxy is trusted. Immutable; copy freely.
class TrustedProxies {
public:
    // The error names the entry that does not parse.
    static base::Expected<TrustedProxies, std::string> parse(std::string_view spec);

    bool empty() const noexcept { return blocks_.empty(); }
    bool contains(const IpAddress& ip) const noexcept;

private:
    struct Block {
        IpAddress base;
        unsigned prefix = 128;  // in bits of the 16-byte form
    };
    std::vector<Block> blocks_;
};

// The client of a request whose TCP peer is `peer` (an address as parse() reads it; a port
// suffix "ip:port" or "[v6]:port" is dropped). Unless the peer is trusted, the peer itself:
// a client's own X-Forwarded-For is ignored. From a trusted peer: walk every X-Forwarded-For
// value right to left and take the first address that is not trusted; an entry that is not
// an address stops the walk (the last trusted address is then the client), and when every
// entry is trusted the left-most one is. Returns "" when the peer is not an IP (a unix socket).
std::string clientAddress(std::string_view peer, const Headers& headers, const TrustedProxies& trusted);

// "192.0.2.1:5000" → "192.0.2.1", "[::1]:80" → "::1", "unix" → "unix".
std::string_view stripPort(std::string_view remote) noexcept;

}  // namespace buntime::http
