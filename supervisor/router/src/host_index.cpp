// SPDX-License-Identifier: MIT
// Host → app lookup for virtual hosts: an exact map and a wildcard-suffix map.
#include "buntime/router/host_index.h"

#include "buntime/base/ascii.h"

namespace buntime::router {

std::string normalizeHost(std::string_view host) {
    host = base::trim(host);
    if (host.starts_with('[')) {
        const auto close = host.find(']');
        host = close == std::string_view::npos ? host : host.substr(0, close + 1);
    } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
        host = host.substr(0, colon);
    }
    if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
    return base::toLower(host);
}

void HostIndex::add(const std::string& app, const std::vector<std::string>& patterns) {
    for (const auto& p : patterns) {
        const bool wild = p.starts_with("*.");
        auto& map = wild ? wildcard_ : exact_;
        auto [it, inserted] = map.emplace(wild ? p.substr(2) : p, app);
        if (!inserted && it->second != app) collisions_.push_back(HostCollision{p, it->second, app});
    }
}

const std::string* HostIndex::match(std::string_view raw) const {
    if (empty() || raw.empty()) return nullptr;
    const std::string host = normalizeHost(raw);
    if (auto it = exact_.find(host); it != exact_.end()) return &it->second;
    if (wildcard_.empty()) return nullptr;
    // Suffixes after each dot, longest first: "a.b.x.com" tries "b.x.com", then "x.com", "com".
    for (std::size_t dot = host.find('.'); dot != std::string::npos; dot = host.find('.', dot + 1)) {
        if (auto it = wildcard_.find(host.substr(dot + 1)); it != wildcard_.end()) return &it->second;
    }
    return nullptr;
}

}  // namespace buntime::router
