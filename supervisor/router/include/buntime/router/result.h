// SPDX-License-Identifier: MIT
// Error values of the router layer: every fallible call returns Result<T>, nothing throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

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

// Named, not toString(): an ADL toString returning string_view breaks doctest stringification.
std::string_view errorCodeName(ErrorCode code) noexcept;

struct Error {
    ErrorCode code = ErrorCode::InvalidValue;
    std::string message;  // human readable, names the file/key/value at fault
    std::string file;     // the file at fault (manifest errors), empty otherwise
    std::string key;      // the manifest key at fault, empty otherwise
};

// A value or an Error. Cheap to move; value() on an error is a programming error.
template <typename T>
class Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error e) : v_(std::move(e)) {}

    explicit operator bool() const noexcept { return v_.index() == 0; }
    bool hasValue() const noexcept { return v_.index() == 0; }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }
    const T& operator*() const& { return std::get<0>(v_); }
    const Error& error() const& { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

inline Error makeError(ErrorCode code, std::string message) { return Error{code, std::move(message), {}, {}}; }

}  // namespace buntime::router
