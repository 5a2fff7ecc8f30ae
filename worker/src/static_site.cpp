// SPDX-License-Identifier: MIT
// Static file and SPA serving.
#include "buntime/worker/static_site.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <utility>

#include "buntime/base/ascii.h"
#include "buntime/base/unique_fd.h"

namespace buntime::worker {
namespace {

constexpr std::size_t kChunk = 256 * 1024;

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view extensionOf(std::string_view name) {
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return {};
    return name.substr(dot + 1);
}

bool isInside(const std::string& root, const std::string& p) {
    return p == root ||
           (p.size() > root.size() && p.compare(0, root.size(), root) == 0 && (root == "/" || p[root.size()] == '/'));
}

std::optional<std::string> readAll(int fd) {
    std::string out;
    char buf[64 * 1024];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

void plain(app::Response& res, int status, std::string_view text) {
    res.status(status);
    res.header("content-type", "text/plain; charset=utf-8");
    res.end(text);
}

}  // namespace

std::optional<std::string> decodePath(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        char c = path[i];
        if (c == '%') {
            if (i + 2 >= path.size()) return std::nullopt;
            int hi = hexValue(path[i + 1]), lo = hexValue(path[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') return std::nullopt;
        out.push_back(c);
    }
    return out;
}

std::optional<std::vector<std::string>> safeSegments(std::string_view decoded) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= decoded.size()) {
        std::size_t slash = decoded.find('/', start);
        std::string_view seg =
            decoded.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (seg == "..") return std::nullopt;
        if (seg.find('\\') != std::string_view::npos) return std::nullopt;
        if (!seg.empty() && seg != ".") parts.emplace_back(seg);
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return parts;
}

std::string_view contentType(std::string_view file_name) noexcept {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 30> kTypes{{
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"webmanifest", "application/manifest+json"},
        {"txt", "text/plain; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"xml", "application/xml"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"avif", "image/avif"},
        {"ico", "image/x-icon"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"otf", "font/otf"},
        {"wasm", "application/wasm"},
        {"pdf", "application/pdf"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
        {"mp3", "audio/mpeg"},
        {"wav", "audio/wav"},
        {"zip", "application/zip"},
    }};
    std::string_view ext = extensionOf(file_name);
    if (ext.empty() || ext.size() > 16) return "application/octet-stream";
    char buf[16];
    for (std::size_t i = 0; i < ext.size(); ++i) buf[i] = base::toLower(ext[i]);
    std::string_view lowered(buf, ext.size());
    for (const auto& [e, type] : kTypes) {
        if (e == lowered) return type;
    }
    return "application/octet-stream";
}

std::string htmlEscape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out.push_back(c);
        }
    }
    return out;
}

std::string injectBase(std::string_view html, std::string_view base) {
    std::string href(base);
    if (href.empty() || href.back() != '/') href.push_back('/');
    std::string tag = "<base href=\"" + htmlEscape(href) + "\">";
    // Find "<head" followed by '>' or whitespace (not "<header").
    std::size_t at = std::string_view::npos;
    for (std::size_t i = 0; i + 5 <= html.size(); ++i) {
        if (html[i] != '<' || !base::iequals(html.substr(i + 1, 4), "head")) continue;
        if (i + 5 == html.size()) break;
        char next = html[i + 5];
        if (next != '>' && next != ' ' && next != '\t' && next != '\n' && next != '\r' && next != '/') continue;
        std::size_t close = html.find('>', i + 5);
        if (close != std::string_view::npos) at = close + 1;
        break;
    }
    std::string out;
    out.reserve(html.size() + tag.size());
    if (at == std::string_view::npos) {
        out.append(tag);
        out.append(html);
    } else {
        out.append(html.substr(0, at));
        out.append(tag);
        out.append(html.substr(at));
    }
    return out;
}

StaticSite::StaticSite(std::string root, std::string index_name, bool inject_base)
    : root_(std::move(root)), index_name_(std::move(index_name)), inject_base_(inject_base) {}

void StaticSite::handle(app::Request& req, app::Response& res) {
    const std::string_view method = req.method();
    const bool head_only = method == "HEAD";
    if (method != "GET" && !head_only) {
        res.status(405);
        res.header("allow", "GET, HEAD");
        res.header("content-type", "text/plain; charset=utf-8");
        res.end("Method Not Allowed\n");
        return;
    }
    std::string_view path = req.path();
    if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
    auto decoded = decodePath(path);
    if (!decoded) return plain(res, 400, "Bad Request\n");
    auto segments = safeSegments(*decoded);
    if (!segments) return plain(res, 403, "Forbidden\n");
    if (segments->empty()) return serveIndex(req, res, head_only);
    for (const auto& s : *segments) {
        if (s.front() == '.') return plain(res, 404, "Not Found\n");  // dotfiles stay private
    }
    if (segments->size() == 1 && (segments->front() == "manifest.yaml" || segments->front() == "manifest.yml"))
        return plain(res, 404, "Not Found\n");

    std::string full = root_;
    for (const auto& s : *segments) {
        full.push_back('/');
        full.append(s);
    }
    const std::string& last = segments->back();
    struct stat st {};
    if (::stat(full.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            std::string nested = full + "/" + index_name_;
            if (::stat(nested.c_str(), &st) == 0 && S_ISREG(st.st_mode))
                return serveFile(nested, index_name_, res, head_only);
            return serveIndex(req, res, head_only);
        }
        if (S_ISREG(st.st_mode)) {
            if (segments->size() == 1 && last == index_name_) return serveIndex(req, res, head_only);
            return serveFile(full, last, res, head_only);
        }
        return plain(res, 404, "Not Found\n");
    }
    // A client-side route has no extension in its last segment: the SPA shell answers it.
    if (extensionOf(last).empty()) return serveIndex(req, res, head_only);
    plain(res, 404, "Not Found\n");
}

void StaticSite::serveIndex(app::Request& req, app::Response& res, bool head_only) const {
    const std::string full = root_ + "/" + index_name_;
    std::string_view base = req.base();
    if (base.empty()) base = req.header("x-base").value_or(std::string_view{});
    if (!inject_base_ || base.empty()) return serveFile(full, index_name_, res, head_only);

    base::UniqueFd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return plain(res, 404, "Not Found\n");
    auto html = readAll(fd.get());
    if (!html) return plain(res, 500, "Internal Server Error\n");
    std::string page = injectBase(*html, base);
    res.header("content-type", contentType(index_name_));
    res.length(static_cast<std::int64_t>(page.size()));
    if (!head_only) res.write(page);
    res.end();
}

void StaticSite::serveFile(const std::string& full, std::string_view name, app::Response& res, bool head_only) const {
    char real[PATH_MAX];
    if (!::realpath(full.c_str(), real) || !isInside(root_, real)) return plain(res, 404, "Not Found\n");
    base::UniqueFd fd(::open(real, O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return plain(res, 404, "Not Found\n");
    res.header("content-type", contentType(name));
    res.length(static_cast<std::int64_t>(st.st_size));
    if (head_only) {
        res.end();
        return;
    }
    std::string buf(std::min<std::size_t>(kChunk, static_cast<std::size_t>(st.st_size) + 1), '\0');
    std::int64_t left = st.st_size;
    while (left > 0) {
        ssize_t n = ::read(fd.get(), buf.data(), std::min<std::size_t>(buf.size(), static_cast<std::size_t>(left)));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            res.fail("static file changed while it was read");
            return;
        }
        if (res.write(std::string_view(buf.data(), static_cast<std::size_t>(n))) != BUNTIME_OK) break;
        left -= n;
    }
    res.end();
}

const buntime_app_v1* StaticSite::appTable() noexcept {
    static const buntime_app_v1 table{
        BUNTIME_APP_ABI_VERSION,
        BUNTIME_STYLE_BLOCKING,
        [](const buntime_host_v1*, const buntime_app_info*, void**, char* reason, size_t cap) -> int {
            app::detail::copyReason(reason, cap, "the static site is created by the host");
            return 1;
        },
        &app::detail::handleRequest<StaticSite>,
        nullptr,
        nullptr,
    };
    return &table;
}

}  // namespace buntime::worker
