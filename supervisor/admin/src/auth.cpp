// SPDX-License-Identifier: MIT
// Constant-time bearer-token comparison, SHA-256 (OpenSSL libcrypto) and the keys file.
#include "buntime/admin/auth.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <fstream>
#include <set>

#include "buntime/base/ascii.h"

namespace buntime::admin {
namespace {
constexpr std::string_view kBearer = "Bearer ";
constexpr std::size_t kMaxKeysFileBytes = 1024 * 1024;
}  // namespace

bool tokenMatches(std::string_view header, std::string_view token) {
    if (token.empty()) return false;
    if (!header.starts_with(kBearer)) return false;
    const auto presented = header.substr(kBearer.size());
    unsigned diff = presented.size() == token.size() ? 0u : 1u;
    for (std::size_t i = 0; i < presented.size(); ++i)
        diff |= static_cast<unsigned>(presented[i] ^ token[i % token.size()]);
    return diff == 0;
}

Sha256 sha256(std::string_view data) {
    Sha256 out{};
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(), nullptr);
    return out;
}

std::string toHex(const Sha256& digest) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (auto b : digest) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

std::string_view roleName(Role role) noexcept {
    switch (role) {
    case Role::Viewer: return "viewer";
    case Role::Deployer: return "deployer";
    case Role::Admin: return "admin";
    }
    return "unknown";
}

std::optional<Role> parseRole(std::string_view text) noexcept {
    if (text == "viewer") return Role::Viewer;
    if (text == "deployer") return Role::Deployer;
    if (text == "admin") return Role::Admin;
    return std::nullopt;
}

void KeyRing::addToken(std::string_view token) {
    if (!token.empty()) keys_.push_back({"RUNTIME_ADMIN_TOKEN", sha256(token), Role::Admin});
}

const ApiKey* KeyRing::match(const std::string* header) const {
    if (header == nullptr || !std::string_view(*header).starts_with(kBearer)) return nullptr;
    const std::string_view presented = std::string_view(*header).substr(kBearer.size());
    if (presented.empty()) return nullptr;
    const Sha256 digest = sha256(presented);
    const ApiKey* found = nullptr;
    for (const auto& key : keys_) {
        unsigned diff = 0;
        for (std::size_t i = 0; i < digest.size(); ++i) diff |= static_cast<unsigned>(digest[i] ^ key.digest[i]);
        // Branch-free select: every key is compared whatever matched before.
        const bool equal = diff == 0;
        found = equal && found == nullptr ? &key : found;
    }
    return found;
}

base::Expected<std::vector<ApiKey>, std::string> parseApiKeys(std::string_view text, std::string_view source) {
    const std::string where(source);
    YAML::Node doc;
    try {
        doc = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        return where + ": not YAML or JSON (line " + std::to_string(e.mark.line + 1) + "): " + e.msg;
    }
    if (!doc.IsSequence()) return where + ": expected a list of {name, sha256, role} entries";
    if (doc.size() == 0) return where + ": the list of keys is empty";
    std::vector<ApiKey> keys;
    std::set<std::string> names;
    std::size_t index = 0;
    for (const auto& item : doc) {
        ++index;
        const std::string entry = where + ": entry " + std::to_string(index);
        if (!item.IsMap()) return entry + ": expected a map with name, sha256 and role";
        for (const auto& kv : item) {
            const auto key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
            if (key != "name" && key != "sha256" && key != "role")
                return entry + ": unknown key '" + key.substr(0, 64) + "' (expected name, sha256, role)";
        }
        auto scalar = [&](const char* key) -> std::string {
            const auto node = item[key];
            return node && node.IsScalar() ? node.Scalar() : std::string();
        };
        ApiKey key;
        key.name = scalar("name");
        if (key.name.empty()) return entry + ": 'name' is missing";
        if (!names.insert(key.name).second) return entry + ": the name '" + key.name + "' is used twice";
        const std::string hex = base::toLower(scalar("sha256"));
        if (hex.size() != 64) return entry + " (" + key.name + "): 'sha256' must be 64 hex digits";
        for (std::size_t i = 0; i < 32; ++i) {
            const int hi = base::hexValue(hex[2 * i]), lo = base::hexValue(hex[2 * i + 1]);
            if (hi < 0 || lo < 0) return entry + " (" + key.name + "): 'sha256' must be 64 hex digits";
            key.digest[i] = static_cast<std::uint8_t>(hi * 16 + lo);
        }
        const auto role = parseRole(scalar("role"));
        if (!role) return entry + " (" + key.name + "): 'role' must be viewer, deployer or admin";
        key.role = *role;
        keys.push_back(std::move(key));
    }
    return keys;
}

base::Expected<std::vector<ApiKey>, std::string> loadApiKeys(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "RUNTIME_API_KEYS_FILE " + path.string() + ": cannot be read";
    std::string text(kMaxKeysFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxKeysFileBytes) return "RUNTIME_API_KEYS_FILE " + path.string() + ": larger than 1 MiB";
    return parseApiKeys(text, "RUNTIME_API_KEYS_FILE " + path.string());
}

}  // namespace buntime::admin
