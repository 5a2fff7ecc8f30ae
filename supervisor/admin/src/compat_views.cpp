// SPDX-License-Identifier: MIT
// The seed runtime's apps shape and API prefix rule.
#include "buntime/admin/compat_views.h"

#include <filesystem>
#include <map>

namespace buntime::admin {

std::vector<BunAppInfo> bunApps(const std::vector<AppRow>& rows) {
    std::vector<BunAppInfo> out;
    std::map<std::string, std::size_t> index;
    for (const auto& row : rows) {
        if (!row.dir || row.version.empty()) continue;
        const std::filesystem::path dir(*row.dir);
        const bool simple = row.layout && *row.layout == "simple";
        auto [it, inserted] = index.emplace(row.name, out.size());
        if (inserted) out.push_back(BunAppInfo{row.name, simple ? dir.string() : dir.parent_path().string(), {}});
        out[it->second].versions.push_back(row.version);
    }
    return out;
}

base::Expected<std::string, ApiPrefixError> parseApiPrefix(std::string_view raw) {
    if (raw.empty()) return std::string(kDefaultApiPrefix);
    std::string p(raw);
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (p.empty()) return p;  // "/": the seed's default, API at /api
    auto bad = [&](std::string why) {
        return ApiPrefixError{"RUNTIME_API_PREFIX=\"" + std::string(raw) + "\" is invalid (" + why + ")"};
    };
    if (p.front() != '/') return bad("must start with '/'");
    for (char c : p)
        if (c == '?' || c == '#' || c == '%' || c == '\\' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
            return bad("only a plain path");
    for (std::size_t start = 1; start <= p.size();) {
        std::size_t end = p.find('/', start);
        if (end == std::string::npos) end = p.size();
        const std::string_view seg = std::string_view(p).substr(start, end - start);
        if (seg.empty() || seg == "." || seg == "..") return bad("empty or dot segment");
        start = end + 1;
    }
    return p;
}

std::string apiPath(std::string_view prefix) { return std::string(prefix) + "/api"; }

std::string reservedRoot(std::string_view prefix) { return prefix.empty() ? std::string("/api") : std::string(prefix); }

}  // namespace buntime::admin
