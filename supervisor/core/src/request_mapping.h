// SPDX-License-Identifier: MIT
// The HTTP request head as the worker sees it: the protocol head with the app-relative
// path, the base and the request id the supervisor vouches for.
#pragma once

#include <cstdint>

#include "buntime/http/request_head.h"
#include "buntime/proto/messages.h"
#include "buntime/router/path.h"

namespace buntime::supervisor {

// x-base and x-request-id are the supervisor's: a client's copies are dropped and ours
// appended. content_length is -1 for a chunked body.
proto::RequestHead toProtoHead(const http::RequestHead& head, const router::ParsedTarget& target,
                               std::uint64_t sent_ns);

// True when the request has a body to forward.
bool hasBody(const http::RequestHead& head) noexcept;

}  // namespace buntime::supervisor
