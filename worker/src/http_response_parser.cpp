// SPDX-License-Identifier: MIT
// The command relay's incremental HTTP/1.1 response parser.
#include "http_response_parser.h"

#include <algorithm>
#include <charconv>

#include "buntime/base/ascii.h"

namespace buntime::worker {
namespace {

constexpr std::size_t kMaxLine = 4096;  // a chunk-size line

}  // namespace

void ResponseParser::start(bool head_request) noexcept {
    head_ = Head{};
    mode_ = Mode::Head;
    head_request_ = head_request;
    started_ = false;
    left_ = 0;
    error_.clear();
}

ResponseParser::Event ResponseParser::fail(std::string why) {
    error_ = std::move(why);
    mode_ = Mode::Done;
    return Event::Error;
}

ResponseParser::Event ResponseParser::next(std::string_view in, std::size_t& used, std::string_view& data) {
    std::size_t off = 0;
    used = 0;
    for (;;) {
        const std::string_view rest = in.substr(off);
        switch (mode_) {
        case Mode::Head: {
            if (!rest.empty()) started_ = true;
            const std::size_t end = rest.find("\r\n\r\n");
            if (end == std::string_view::npos) {
                used = off;
                if (rest.size() > kMaxHeadBytes) return fail("the response head is too large");
                return Event::NeedMore;
            }
            head_ = Head{};
            if (auto err = parseHead(rest.substr(0, end)); !err.empty()) return fail("malformed HTTP (" + err + ")");
            off += end + 4;
            if (head_.status == 101) return fail("the app switched protocols (101), which is not supported");
            if (head_.status < 200) continue;  // an interim response
            if (head_request_ || head_.status == 204 || head_.status == 304) {
                mode_ = Mode::Done;
            } else if (head_.chunked) {
                mode_ = Mode::ChunkSize;
            } else if (head_.content_length >= 0) {
                mode_ = Mode::Length;
                left_ = static_cast<std::uint64_t>(head_.content_length);
            } else {
                mode_ = Mode::UntilClose;
            }
            used = off;
            return Event::Head;
        }
        case Mode::Length:
        case Mode::ChunkData: {
            if (left_ == 0) {
                if (mode_ == Mode::Length) {
                    mode_ = Mode::Done;
                    continue;
                }
                mode_ = Mode::ChunkEnd;
                continue;
            }
            if (rest.empty()) {
                used = off;
                return Event::NeedMore;
            }
            data = rest.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(left_, rest.size())));
            left_ -= data.size();
            used = off + data.size();
            return Event::Data;
        }
        case Mode::ChunkSize: {
            const std::size_t eol = rest.find("\r\n");
            if (eol == std::string_view::npos) {
                used = off;
                if (rest.size() > kMaxLine) return fail("malformed chunk size line");
                return Event::NeedMore;
            }
            std::string_view line = rest.substr(0, eol);
            line = base::trim(line.substr(0, line.find(';')));
            std::uint64_t size = 0;
            auto r = std::from_chars(line.data(), line.data() + line.size(), size, 16);
            if (line.empty() || r.ec != std::errc() || r.ptr != line.data() + line.size())
                return fail("malformed chunk size");
            off += eol + 2;
            if (size == 0) {
                mode_ = Mode::Trailers;
            } else {
                mode_ = Mode::ChunkData;
                left_ = size;
            }
            continue;
        }
        case Mode::ChunkEnd:
            if (rest.size() < 2) {
                used = off;
                return Event::NeedMore;
            }
            if (!rest.starts_with("\r\n")) return fail("malformed chunk end");
            off += 2;
            mode_ = Mode::ChunkSize;
            continue;
        case Mode::Trailers: {  // dropped, up to an empty line
            const std::size_t eol = rest.find("\r\n");
            if (eol == std::string_view::npos) {
                used = off;
                if (rest.size() > kMaxHeadBytes) return fail("trailers too large");
                return Event::NeedMore;
            }
            off += eol + 2;
            if (eol == 0) mode_ = Mode::Done;
            continue;
        }
        case Mode::UntilClose:
            if (rest.empty()) {
                used = off;
                return Event::NeedMore;
            }
            data = rest;
            used = in.size();
            return Event::Data;
        case Mode::Done: used = off; return Event::Done;
        }
    }
}

ResponseParser::Event ResponseParser::closed() {
    switch (mode_) {
    case Mode::UntilClose: mode_ = Mode::Done; return Event::Done;
    case Mode::Done: return Event::Done;
    case Mode::Head:
        return fail(started_ ? "the app closed the connection mid-response"
                             : "the app closed the connection without a response");
    default: return fail("the app closed the connection mid-response");
    }
}

// Parses a response head (without the final CRLF CRLF); empty on success, else why not.
std::string ResponseParser::parseHead(std::string_view text) {
    Head& h = head_;
    std::size_t eol = text.find("\r\n");
    std::string_view line = text.substr(0, eol);
    if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ') return "bad status line";
    const bool http10 = line[7] == '0';
    if (!http10 && line[7] != '1') return "bad HTTP version";
    auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, h.status);
    if (ec != std::errc() || p != line.data() + 12 || h.status < 100 || h.status > 999) return "bad status code";
    if (line.size() > 12 && line[12] != ' ') return "bad status line";
    h.keep_alive = !http10;
    std::string_view rest = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 2);
    while (!rest.empty()) {
        eol = rest.find("\r\n");
        line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
        if (line.empty()) continue;
        if (line.front() == ' ' || line.front() == '\t') return "folded header line";
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return "header line without a name";
        std::string_view name = line.substr(0, colon), value = base::trim(line.substr(colon + 1));
        if (base::iequals(name, "content-length")) {
            std::int64_t n = -1;
            auto r = std::from_chars(value.data(), value.data() + value.size(), n);
            if (r.ec != std::errc() || r.ptr != value.data() + value.size() || n < 0) return "bad content-length";
            if (h.content_length >= 0 && h.content_length != n) return "conflicting content-length";
            h.content_length = n;
        } else if (base::iequals(name, "transfer-encoding")) {
            std::string lower = base::toLower(value);
            if (lower.ends_with("chunked"))
                h.chunked = true;
            else
                h.keep_alive = false;  // read until close
        } else if (base::iequals(name, "connection")) {
            std::string lower = base::toLower(value);
            if (lower.find("close") != std::string::npos) h.keep_alive = false;
            if (lower.find("keep-alive") != std::string::npos && http10) h.keep_alive = true;
        }
        h.headers.emplace_back(name, value);
    }
    if (h.chunked) h.content_length = -1;
    return {};
}

}  // namespace buntime::worker
