// SPDX-License-Identifier: MIT
// A minimal expected<T, Error> (C++20 has none): fallible construction returns one.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "buntime/shm/error.h"

namespace buntime::shm {

template <typename T>
class Expected {
public:
    Expected(T value) : v_(std::move(value)) {}
    Expected(Error e) : v_(e) {}

    explicit operator bool() const noexcept { return v_.index() == 0; }
    bool hasValue() const noexcept { return v_.index() == 0; }
    Error error() const noexcept { return hasValue() ? Error::Ok : std::get<1>(v_); }
    T& value() & { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }

private:
    std::variant<T, Error> v_;
};

}  // namespace buntime::shm
