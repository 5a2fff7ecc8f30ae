// SPDX-License-Identifier: MIT
// JSON-lines access log implementation.
#include "access_log.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <unistd.h>

namespace buntime::http::detail {

base::Expected<void, base::SysError> AccessLog::open(const std::string& spec) {
    if (spec.empty() || spec == "off") return {};
    if (spec == "stderr") {
        fd_ = STDERR_FILENO;
        return {};
    }
    base::UniqueFd file(::open(spec.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (!file) return base::sysError("access log " + spec);
    file_ = std::move(file);
    fd_ = file_.get();
    return {};
}

void appendJsonString(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += ch;
        }
    }
    out += '"';
}

namespace {

// "YYYY-MM-DDTHH:MM:SS.mmmZ", the seconds part cached per thread.
void appendNow(std::string& out) {
    thread_local std::time_t cached_sec = -1;
    thread_local char cached[32];
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t sec = static_cast<std::time_t>(ms / 1000);
    if (sec != cached_sec) {
        std::tm tm{};
        gmtime_r(&sec, &tm);
        std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = sec;
    }
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
    out += cached;
    out += frac;
}

}  // namespace

void AccessLog::write(const AccessRecord& r) const {
    if (fd_ < 0) return;
    thread_local std::string line;
    line.clear();
    line += "{\"time\":\"";
    appendNow(line);
    line += "\",\"requestId\":";
    appendJsonString(line, r.request_id);
    line += ",\"method\":";
    appendJsonString(line, r.method);
    line += ",\"path\":";
    appendJsonString(line, r.path);
    line += ",\"app\":";
    if (r.app.empty())
        line += "null";
    else
        appendJsonString(line, r.app);
    char nums[200];
    int n = std::snprintf(
        nums, sizeof nums,
        ",\"status\":%u,\"bytesIn\":%llu,\"bytesOut\":%llu,\"durationMs\":%.3f,\"workerPid\":", r.status,
        static_cast<unsigned long long>(r.bytes_in), static_cast<unsigned long long>(r.bytes_out), r.duration_ms);
    line.append(nums, static_cast<std::size_t>(n));
    if (r.worker_pid > 0)
        line += std::to_string(r.worker_pid);
    else
        line += "null";
    line += "}\n";
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        ssize_t w = ::write(fd_, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;  // a log failure never affects the request
        }
        p += w;
        left -= static_cast<std::size_t>(w);
    }
}

}  // namespace buntime::http::detail
