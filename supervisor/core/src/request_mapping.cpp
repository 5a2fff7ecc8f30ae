// SPDX-License-Identifier: MIT
// http::RequestHead → proto::RequestHead.
#include "request_mapping.h"

#include "buntime/base/ascii.h"

namespace buntime::supervisor {

proto::RequestHead toProtoHead(const http::RequestHead& head, const router::ParsedTarget& target,
                               std::uint64_t sent_ns) {
    proto::RequestHead rh;
    rh.method = head.method;
    rh.target = head.target;
    rh.path = target.rest;
    rh.query = target.query;
    rh.base = target.base;
    rh.request_id = head.request_id;
    rh.headers.reserve(head.headers.size() + 2);
    for (const auto& [name, value] : head.headers) {
        if (base::iequals(name, "x-base") || base::iequals(name, "x-request-id")) continue;  // ours only
        rh.headers.emplace_back(name, value);
    }
    rh.headers.emplace_back("x-base", target.base);
    rh.headers.emplace_back("x-request-id", head.request_id);
    rh.content_length = head.content_length ? static_cast<std::int64_t>(*head.content_length) : (head.chunked ? -1 : 0);
    rh.sent_ns = sent_ns;
    return rh;
}

bool hasBody(const http::RequestHead& head) noexcept {
    return head.chunked || (head.content_length && *head.content_length > 0);
}

}  // namespace buntime::supervisor
