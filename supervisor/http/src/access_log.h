// SPDX-License-Identifier: MIT
// JSON-lines access log: one write(2) per request to stderr or an append-mode file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace buntime::http::detail {

struct AccessRecord {
    std::string_view request_id;
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
    ~AccessLog();
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;

    // "off", "stderr" or a path. Returns an error message, empty on success.
    std::string open(const std::string& spec);
    bool enabled() const noexcept { return fd_ >= 0; }
    void write(const AccessRecord& record) const;

private:
    int fd_ = -1;
    bool owned_ = false;
};

void appendJsonString(std::string& out, std::string_view s);

}  // namespace buntime::http::detail
