// SPDX-License-Identifier: MIT
// Error values of the router layer: every fallible call returns Result<T>, nothing throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "buntime/base/expected.h"

namespace buntime::router {

enum class ErrorCode : std::uint8_t {
    InvalidValue,  // a value does not parse (duration, size, version, range, manifest key)
    Io,            // a file could not be read
    Syntax,        // YAML syntax error (message names file and line)
    InvalidName,   // app name outside [A-Za-z0-9][A-Za-z0-9._-]*
    NotFound,      // no app of that name in any root
    NoMatch,       // the app exists but no version satisfies the range
    Collision,     // one name@version found in two directories
    BadManifest,   // the app's manifest.yaml is invalid (message says why)
};

// "invalid-value", "not-found", ...: a stable name for logs and tests.
std::string_view toString(ErrorCode code) noexcept;

struct Error {
    ErrorCode code = ErrorCode::InvalidValue;
    std::string message;      // human readable, names the file/key/value at fault
    std::string file;         // the file at fault (manifest errors), empty otherwise
    std::string key;          // the manifest key at fault, empty otherwise
    int line = 0;             // manifest errors: the 1-based line of the key or syntax error; 0 unknown
    std::string reason = {};  // manifest errors: the message without file and key (config check)
};

// A value or an Error (base::Expected: has_value, value, error, value_or, and_then).
// Cheap to move; value() on an error is a programming error.
template <typename T>
using Result = base::Expected<T, Error>;

inline Error makeError(ErrorCode code, std::string message) { return Error{code, std::move(message), {}, {}}; }

}  // namespace buntime::router
