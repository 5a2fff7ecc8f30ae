// SPDX-License-Identifier: MIT
// JSON-lines access log: one write(2) per request to stderr or an append-mode file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "buntime/base/error.h"
#include "buntime/base/expected.h"
#include "buntime/base/unique_fd.h"

namespace buntime::http::detail {

struct AccessRecord {
    std::string_view request_id;
    std::string_view remote;  // the client address (clientAddress), "unix" for unix sockets
    std::string_view method;
    std::string_view path;
    std::string_view app;  // empty → null
    unsigned status = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    double duration_ms = 0;
    int worker_pid = 0;  // 0 → null
};

// Owns the fd when it opened a file. write() is thread-safe (one write(2) per line,
// formatted in a thread-local buffer).
class AccessLog {
public:
    AccessLog() = default;
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;

    // "off", "stderr" or a path (opened for appending, created 0644).
    base::Expected<void, base::SysError> open(const std::string& spec);
    bool enabled() const noexcept { return fd_ >= 0; }
    void write(const AccessRecord& record) const;

private:
    int fd_ = -1;          // where lines go: stderr or file_
    base::UniqueFd file_;  // the file this log opened, if any
};

// Appends `s` as a JSON string: control characters and bytes that are not well-formed UTF-8
// are written as \u00XX, so every line is valid JSON whatever the client sent.
void appendJsonString(std::string& out, std::string_view s);

}  // namespace buntime::http::detail
