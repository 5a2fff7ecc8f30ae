// SPDX-License-Identifier: MIT
// The error value of an operating-system call, for Expected<T, SysError>. Domain errors of
// other components carry the same three things: a code, the errno where one caused it,
// and a message that names what failed.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>

namespace buntime::base {

struct SysError {
    int sys_errno = 0;    // 0 when no system call failed
    std::string message;  // "open /x/y: No such file or directory"
};

// "<what>: <strerror(err)>", with err defaulting to the current errno (read first, before
// anything else can change it).
SysError sysError(std::string_view what, int err = errno);

// strerror that is thread-safe.
std::string errnoText(int err);

}  // namespace buntime::base
