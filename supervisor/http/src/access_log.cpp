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

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when the byte there starts none.
std::size_t utf8Length(std::string_view s, std::size_t i) {
    auto at = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xbf) {
        unsigned c = at(k);
        return c >= lo && c <= hi;
    };
    unsigned c = at(0);
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
    if (c == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
    if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
    if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    auto escapeByte = [&](unsigned char c) {
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
    };
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += s[i++];
        } else if (c < 0x20 || c == 0x7f) {
            escapeByte(c);
            ++i;
        } else if (std::size_t n = utf8Length(s, i); n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            // Not UTF-8 (a raw byte in a path): written as the code point of the same value,
            // so the line stays valid JSON and the byte stays visible.
            escapeByte(c);
            ++i;
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
    line += ",\"remote\":";
    appendJsonString(line, r.remote);
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
