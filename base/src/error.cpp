// SPDX-License-Identifier: MIT
// SysError construction.
#include "buntime/base/error.h"

#include <cstring>

namespace buntime::base {

std::string errnoText(int err) {
    char buf[128];
    // GNU strerror_r returns the message, which may or may not be `buf`.
    return ::strerror_r(err, buf, sizeof buf);
}

SysError sysError(std::string_view what, int err) {
    std::string message(what);
    message += ": ";
    message += errnoText(err);
    return SysError{err, std::move(message)};
}

}  // namespace buntime::base
