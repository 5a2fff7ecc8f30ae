// SPDX-License-Identifier: MIT
// multipartFile: the one file part of a multipart/form-data upload (RFC 7578), without copying.
#include <vector>

#include "buntime/base/ascii.h"
#include "buntime/deploy/archive.h"

namespace buntime::deploy {
namespace {

DeployError bad(std::string message) { return deployError(400, "BAD_MULTIPART", std::move(message)); }

// The boundary parameter of a Content-Type value, quotes removed; "" when absent.
std::string_view boundaryOf(std::string_view content_type) {
    const std::string low = base::toLower(content_type);
    const auto at = low.find("boundary=");
    if (at == std::string::npos) return {};
    std::string_view b = content_type.substr(at + 9);
    if (b.starts_with('"')) {
        b.remove_prefix(1);
        return b.substr(0, b.find('"'));
    }
    return b.substr(0, b.find_first_of("; \t"));
}

}  // namespace

base::Expected<std::string_view, DeployError> multipartFile(std::string_view content_type, std::string_view body) {
    const std::string_view boundary = boundaryOf(content_type);
    if (boundary.empty() || boundary.size() > 200) return bad("multipart/form-data without a usable boundary");
    const std::string delimiter = "--" + std::string(boundary);
    auto pos = body.find(delimiter);
    if (pos == std::string_view::npos) return bad("multipart body without its boundary");
    struct Part {
        std::string_view headers;
        std::string_view data;
    };
    std::vector<Part> parts;
    pos += delimiter.size();
    for (;;) {
        if (body.substr(pos, 2) == "--") break;  // the closing delimiter
        if (body.substr(pos, 2) != "\r\n") return bad("malformed multipart delimiter line");
        pos += 2;
        const auto head_end = body.find("\r\n\r\n", pos);
        if (head_end == std::string_view::npos) return bad("multipart part without a header end");
        const std::string_view headers = body.substr(pos, head_end - pos);
        const auto data_start = head_end + 4;
        const auto next = body.find("\r\n" + delimiter, data_start);
        if (next == std::string_view::npos) return bad("multipart body is not terminated by its boundary");
        parts.push_back({headers, body.substr(data_start, next - data_start)});
        if (parts.size() > 16) return bad("too many multipart parts (send one file)");
        pos = next + 2 + delimiter.size();
    }
    const Part* file = nullptr;
    std::size_t with_filename = 0;
    for (const auto& p : parts) {
        if (base::toLower(p.headers).find("filename=") != std::string::npos) {
            ++with_filename;
            file = &p;
        }
    }
    if (with_filename > 1) return bad("multipart upload with more than one file part");
    if (!file && parts.size() == 1) file = &parts.front();
    if (!file) return bad("multipart upload without a file part");
    return file->data;
}

}  // namespace buntime::deploy
