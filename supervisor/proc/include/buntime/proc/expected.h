// SPDX-License-Identifier: MIT
// A minimal expected<T, E> for proc (C++20 has none): fallible calls return a value or an error.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace buntime::proc {

// Holds either a T (success) or an E (error). Not thread-safe; plain value type.
template <typename T, typename E>
class Expected {
public:
    Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Expected(E error) : v_(std::in_place_index<1>, std::move(error)) {}

    explicit operator bool() const noexcept { return v_.index() == 0; }
    bool hasValue() const noexcept { return v_.index() == 0; }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }

    // Only valid when !hasValue().
    const E& error() const& { return std::get<1>(v_); }

private:
    std::variant<T, E> v_;
};

// An OS error: errno plus a human-readable message naming what failed.
struct SysError {
    int sys_errno = 0;
    std::string message;
};

}  // namespace buntime::proc
