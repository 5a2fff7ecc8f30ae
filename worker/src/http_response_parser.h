// SPDX-License-Identifier: MIT
// An incremental HTTP/1.1 response parser for the command relay: fed whatever bytes the
// app's socket gave, it yields the head, then body pieces (content-length, chunked or
// close-delimited framing), then the end; 1xx heads are skipped; HEAD/204/304 have no body.
//
// Thread-safety: one parser per connection, used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace buntime::worker {

class ResponseParser {
public:
    enum class Event {
        NeedMore,  // everything given was consumed (or is an incomplete line): read more
        Head,      // head() is valid: its views point into the input until it is consumed
        Data,      // `data` is a body piece (a view into the input)
        Done,      // the response is complete; unconsumed input belongs to no response
        Error,     // malformed: error() says why
    };

    struct Head {
        int status = 0;
        std::vector<std::pair<std::string_view, std::string_view>> headers;
        std::int64_t content_length = -1;  // -1: not declared (chunked or until close)
        bool chunked = false;
        bool keep_alive = true;
    };

    // Starts a new response; `head_request`: the request was HEAD (no body follows).
    void start(bool head_request) noexcept;

    // Looks at `in` (the bytes not consumed yet) and consumes `used` of them. Call again
    // while it returns Head or Data; NeedMore asks for more input. A Head's views stay
    // valid until the caller drops the consumed bytes.
    Event next(std::string_view in, std::size_t& used, std::string_view& data);
    // The app closed the connection: Done for a close-delimited body, else Error.
    Event closed();

    const Head& head() const noexcept { return head_; }
    // The connection may carry another response after this one.
    bool reusable() const noexcept { return head_.keep_alive && mode_ != Mode::UntilClose; }
    // True once any byte of this response (an interim one included) was consumed.
    bool started() const noexcept { return started_; }
    bool inBody() const noexcept { return mode_ != Mode::Head && mode_ != Mode::Done; }
    const std::string& error() const noexcept { return error_; }

    static constexpr std::size_t kMaxHeadBytes = 64 * 1024;

private:
    enum class Mode { Head, Length, ChunkSize, ChunkData, ChunkEnd, Trailers, UntilClose, Done };
    Event fail(std::string why);
    std::string parseHead(std::string_view text);

    Head head_;
    Mode mode_ = Mode::Head;
    bool head_request_ = false;
    bool started_ = false;
    std::uint64_t left_ = 0;  // bytes left of the body (Length) or of the chunk (ChunkData)
    std::string error_;
};

}  // namespace buntime::worker
