// SPDX-License-Identifier: MIT
// worker/http_response_parser: the command relay's incremental response parser, fed whole
// and one piece at a time (every split size): framings, 1xx, HEAD/204/304, errors.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "http_response_parser.h"

using buntime::worker::ResponseParser;
using Event = ResponseParser::Event;

namespace {

struct Result {
    int status = 0;
    std::string body;
    std::string content_type;
    bool done = false;
    bool reusable = false;
    std::string error;
    std::size_t leftover = 0;  // bytes after the response
};

// Feeds `wire` in pieces of `step` bytes, keeping unconsumed bytes as the relay does; `close`:
// the connection closes after the last piece.
Result feed(std::string_view wire, std::size_t step, bool head_request = false, bool close = false) {
    ResponseParser p;
    p.start(head_request);
    Result r;
    std::string pending;
    for (std::size_t at = 0; at < wire.size() && !r.done && r.error.empty(); at += step) {
        pending.append(wire.substr(at, step));
        std::size_t pos = 0;
        for (;;) {
            std::size_t used = 0;
            std::string_view data;
            const Event e = p.next(std::string_view(pending).substr(pos), used, data);
            if (e == Event::Head) {
                r.status = p.head().status;
                for (const auto& [n, v] : p.head().headers)
                    if (n == "content-type") r.content_type = std::string(v);
            }
            if (e == Event::Data) r.body.append(data);
            pos += used;
            if (e == Event::Head || e == Event::Data) continue;
            if (e == Event::Done) {
                r.done = true;
                r.reusable = p.reusable();
                r.leftover = pending.size() - pos + (wire.size() - std::min(wire.size(), at + step));
            }
            if (e == Event::Error) r.error = p.error();
            break;
        }
        pending.erase(0, pos);
    }
    if (close && !r.done && r.error.empty()) {
        if (p.closed() == Event::Done) {
            r.done = true;
        } else {
            r.error = p.error();
        }
    }
    return r;
}

}  // namespace

TEST_CASE("content-length, chunked and close-delimited bodies, in any split") {
    const std::string length = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\n\r\nhello world";
    const std::string chunked =
        "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
        "x-trailer: 1\r\n\r\n";
    const std::string until_close = "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello world";
    for (std::size_t step = 1; step <= length.size(); ++step) {
        CAPTURE(step);
        Result a = feed(length, step);
        CHECK(a.done);
        CHECK(a.status == 200);
        CHECK(a.body == "hello world");
        CHECK(a.content_type == "text/plain");
        CHECK(a.reusable);
        Result b = feed(chunked, step);
        CHECK(b.done);
        CHECK(b.status == 201);
        CHECK(b.body == "hello world");
        CHECK(b.reusable);
        Result c = feed(until_close, step, false, true);
        CHECK(c.done);
        CHECK(c.body == "hello world");
        CHECK_FALSE(c.reusable);
    }
}

TEST_CASE("interim 1xx heads are skipped; HEAD, 204 and 304 have no body") {
    Result r = feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", 3);
    CHECK(r.done);
    CHECK(r.status == 200);
    CHECK(r.body == "ok");
    Result head = feed("HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\nHTTP/1.1 200 OK\r\n", 7, true);
    CHECK(head.done);
    CHECK(head.body.empty());
    CHECK(head.reusable);
    Result no_content = feed("HTTP/1.1 204 No Content\r\n\r\n", 1);
    CHECK(no_content.done);
    CHECK(no_content.status == 204);
    Result not_modified = feed("HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n", 5);
    CHECK(not_modified.done);
    CHECK(not_modified.body.empty());
}

TEST_CASE("HTTP/1.0 without keep-alive is not reused; bytes after a response are left over") {
    Result r = feed("HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\nx", 100);
    CHECK(r.done);
    CHECK_FALSE(r.reusable);
    Result extra = feed("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nxyz", 100);
    CHECK(extra.done);
    CHECK(extra.body == "x");
    CHECK(extra.leftover == 2);
}

TEST_CASE("malformed responses and early closes are errors with a reason") {
    CHECK(feed("NOT HTTP\r\n\r\n", 4).error.find("malformed") != std::string::npos);
    CHECK(feed("HTTP/1.1 20 OK\r\n\r\n", 100).error.find("status") != std::string::npos);
    CHECK(feed("HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", 100).error.find("content-length") != std::string::npos);
    CHECK(feed("HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n", 100).error.find("conflicting") !=
          std::string::npos);
    CHECK(feed("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", 100).error.find("chunk") !=
          std::string::npos);
    CHECK(feed("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabX\r\n", 100).error.find("chunk end") !=
          std::string::npos);
    CHECK(feed("HTTP/1.1 101 Switching Protocols\r\n\r\n", 100).error.find("101") != std::string::npos);
    CHECK(feed("HTTP/1.1 200 OK\r\ncontent-le", 5, false, true).error == "the app closed the connection mid-response");
    CHECK(feed("", 1, false, true).error == "the app closed the connection without a response");
    CHECK(feed("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", 2, false, true).error ==
          "the app closed the connection mid-response");
    CHECK(feed(std::string(70 * 1024, 'a'), 4096).error.find("too large") != std::string::npos);
}
