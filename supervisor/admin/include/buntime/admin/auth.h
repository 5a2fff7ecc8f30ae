// SPDX-License-Identifier: MIT
// The admin API's credentials: the bearer-token check, and keys with roles
// (RUNTIME_API_KEYS_FILE) stored as SHA-256 digests. Pure; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "buntime/base/expected.h"

namespace buntime::admin {

// True when `authorization_header` is exactly "Bearer <configured_token>". The comparison
// takes a time that depends only on the presented length, never on where the two differ.
// An empty configured token matches nothing.
bool tokenMatches(std::string_view authorization_header, std::string_view configured_token);

using Sha256 = std::array<std::uint8_t, 32>;
Sha256 sha256(std::string_view data);
std::string toHex(const Sha256& digest);

// What a key may do: viewer reads; deployer reads, deploys and removes apps; admin does
// everything (retire, reload). Ordered: a higher role includes the lower ones.
enum class Role : std::uint8_t { Viewer = 1, Deployer = 2, Admin = 3 };
std::string_view roleName(Role role) noexcept;
std::optional<Role> parseRole(std::string_view text) noexcept;

struct ApiKey {
    std::string name;  // what the logs show; the key itself is never stored or logged
    Sha256 digest{};   // SHA-256 of the key's bytes
    Role role = Role::Viewer;
};

// The keys the admin API accepts. Matching hashes the presented key once and compares it
// with every digest in constant time (no early exit, whatever the position or the match).
class KeyRing {
public:
    void add(ApiKey key) { keys_.push_back(std::move(key)); }
    // RUNTIME_ADMIN_TOKEN: one admin key named "RUNTIME_ADMIN_TOKEN" (nothing when empty).
    void addToken(std::string_view token);
    bool empty() const noexcept { return keys_.empty(); }
    std::size_t size() const noexcept { return keys_.size(); }
    // The key of "Authorization: Bearer <key>", or null when absent or unknown.
    const ApiKey* match(const std::string* authorization_header) const;

private:
    std::vector<ApiKey> keys_;
};

// Parses a keys file: a YAML or JSON list of {name, sha256, role} (sha256: 64 hex digits of
// the SHA-256 of the key). Errors are one line naming the file and the entry at fault.
base::Expected<std::vector<ApiKey>, std::string> parseApiKeys(std::string_view text, std::string_view source);
base::Expected<std::vector<ApiKey>, std::string> loadApiKeys(const std::filesystem::path& path);

}  // namespace buntime::admin
