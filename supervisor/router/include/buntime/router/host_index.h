// SPDX-License-Identifier: MIT
// Virtual hosts: the manifests' `hosts` patterns → app name, built once per (re)load.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace buntime::router {

// A pattern claimed by two apps: `winner` (the name that sorts first) serves it.
struct HostCollision {
    std::string pattern;
    std::string winner;
    std::string loser;
};

// Immutable once built; match() is thread-safe and costs one hash lookup per label of the
// host. Exact names win over wildcards; among wildcards the longest suffix wins, and
// "*.x.com" matches "a.x.com" and "a.b.x.com", never "x.com" itself (as nginx's server_name).
class HostIndex {
public:
    // Adds `app`'s patterns (as the manifest parser normalized them). Apps must be added in
    // name order: a pattern already claimed by another app is a collision, and the first
    // app keeps it.
    void add(const std::string& app, const std::vector<std::string>& patterns);

    // The app serving `host` (a Host header: any case, optional ":port", optional trailing
    // dot, "[v6]:port"), or nullptr.
    const std::string* match(std::string_view host) const;

    bool empty() const noexcept { return exact_.empty() && wildcard_.empty(); }
    std::size_t size() const noexcept { return exact_.size() + wildcard_.size(); }
    const std::vector<HostCollision>& collisions() const noexcept { return collisions_; }

private:
    std::unordered_map<std::string, std::string> exact_;     // "tools.example.com" → app
    std::unordered_map<std::string, std::string> wildcard_;  // "apps.example.com" (from "*.apps…") → app
    std::vector<HostCollision> collisions_;
};

// The host part of a Host header value, lowercased, without port or trailing dot
// ("Tools.Example.com:8080" → "tools.example.com", "[::1]:80" → "[::1]").
std::string normalizeHost(std::string_view host);

}  // namespace buntime::router
