// SPDX-License-Identifier: MIT
// Protocol heads used as samples by tests, fuzz seeds and benches.
#pragma once

#include "buntime/proto/messages.h"

namespace buntime::test {

// GET /hello/greet?name=x with the headers a supervisor adds.
inline proto::RequestHead sampleRequestHead() {
    proto::RequestHead h;
    h.method = "GET";
    h.target = "/hello/greet?name=x";
    h.path = "/greet";
    h.query = "name=x";
    h.base = "/hello";
    h.request_id = "0123456789abcdef";
    h.headers = {{"host", "127.0.0.1"}, {"accept", "*/*"}, {"x-base", "/hello"}, {"x-request-id", "0123456789abcdef"}};
    h.content_length = 0;
    h.sent_ns = 123456789;
    return h;
}

inline proto::ResponseHead sampleResponseHead() {
    proto::ResponseHead h;
    h.status = 200;
    h.headers = {{"content-type", "text/plain; charset=utf-8"}, {"x-app", "sample"}};
    h.content_length = 13;
    h.request_received_ns = 1000;
    h.handler_ns = 250;
    h.sent_ns = 1500;
    return h;
}

}  // namespace buntime::test
