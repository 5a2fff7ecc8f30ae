// SPDX-License-Identifier: MIT
// Expected<T, E>: a value or the error that prevented it. The one error convention of the
// project: every fallible call returns one, and nothing throws across a component boundary.
//
// The names follow std::expected (C++23) so the type can be swapped for it later:
// has_value(), value(), error(), value_or(), and_then(). Unlike std::expected, a bare E
// converts implicitly (`return SysError{...};`), so T and E must be different types.
// A plain value type: not thread-safe, cheap to move.
#pragma once

#include <cassert>
#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>

namespace buntime::base {

template <typename T, typename E>
class [[nodiscard]] Expected {
    static_assert(!std::is_same_v<std::remove_cv_t<T>, std::remove_cv_t<E>>, "T and E must differ");
    static_assert(!std::is_reference_v<T> && !std::is_reference_v<E>, "hold values, not references");

public:
    using value_type = T;
    using error_type = E;

    Expected(const T& value) : has_(true) { std::construct_at(&value_, value); }
    Expected(T&& value) : has_(true) { std::construct_at(&value_, std::move(value)); }
    Expected(const E& error) : has_(false) { std::construct_at(&error_, error); }
    Expected(E&& error) : has_(false) { std::construct_at(&error_, std::move(error)); }
    // Anything else that converts to T (a string literal for std::string, a derived pointer).
    template <typename U>
    requires(std::is_constructible_v<T, U&&> && !std::is_constructible_v<E, U&&> &&
             !std::is_same_v<std::remove_cvref_t<U>, T> && !std::is_same_v<std::remove_cvref_t<U>, Expected>)
        Expected(U&& value)
        : has_(true) {
        std::construct_at(&value_, std::forward<U>(value));
    }

    Expected(const Expected& o) : has_(o.has_) {
        if (has_)
            std::construct_at(&value_, o.value_);
        else
            std::construct_at(&error_, o.error_);
    }
    Expected(Expected&& o) noexcept(std::is_nothrow_move_constructible_v<T>&& std::is_nothrow_move_constructible_v<E>)
        : has_(o.has_) {
        if (has_)
            std::construct_at(&value_, std::move(o.value_));
        else
            std::construct_at(&error_, std::move(o.error_));
    }
    Expected& operator=(const Expected& o) {
        if (this != &o) assign(o);
        return *this;
    }
    Expected& operator=(Expected&& o) noexcept(
        std::is_nothrow_move_constructible_v<T>&& std::is_nothrow_move_constructible_v<E>) {
        if (this != &o) assign(std::move(o));
        return *this;
    }
    ~Expected() { destroy(); }

    bool has_value() const noexcept { return has_; }
    explicit operator bool() const noexcept { return has_; }

    // Only when has_value().
    T& value() & { return checkedValue(); }
    const T& value() const& { return const_cast<Expected*>(this)->checkedValue(); }
    T&& value() && { return std::move(checkedValue()); }
    T* operator->() { return &checkedValue(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return checkedValue(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(checkedValue()); }

    // Only when !has_value().
    const E& error() const& { return const_cast<Expected*>(this)->checkedError(); }
    E& error() & { return checkedError(); }
    E&& error() && { return std::move(checkedError()); }

    template <typename U>
    T value_or(U&& fallback) const& {
        return has_ ? value_ : static_cast<T>(std::forward<U>(fallback));
    }
    template <typename U>
    T value_or(U&& fallback) && {
        return has_ ? std::move(value_) : static_cast<T>(std::forward<U>(fallback));
    }

    // f(T) -> Expected<U, E>; an error passes through unchanged.
    template <typename F>
    auto and_then(F&& f) const& -> std::invoke_result_t<F, const T&> {
        if (has_) return std::forward<F>(f)(value_);
        return error_;
    }
    template <typename F>
    auto and_then(F&& f) && -> std::invoke_result_t<F, T&&> {
        if (has_) return std::forward<F>(f)(std::move(value_));
        return std::move(error_);
    }

private:
    T& checkedValue() {
        assert(has_);
        return value_;
    }
    E& checkedError() {
        assert(!has_);
        return error_;
    }
    void destroy() noexcept {
        if (has_)
            std::destroy_at(&value_);
        else
            std::destroy_at(&error_);
    }
    template <typename Other>
    void assign(Other&& o) {
        if (has_ && o.has_) {
            value_ = std::forward<Other>(o).value_;
        } else if (!has_ && !o.has_) {
            error_ = std::forward<Other>(o).error_;
        } else {
            destroy();
            has_ = o.has_;
            if (has_)
                std::construct_at(&value_, std::forward<Other>(o).value_);
            else
                std::construct_at(&error_, std::forward<Other>(o).error_);
        }
    }

    union {
        T value_;
        E error_;
    };
    bool has_;
};

// Success without a value, or an error.
template <typename E>
class [[nodiscard]] Expected<void, E> {
public:
    using value_type = void;
    using error_type = E;

    Expected() noexcept = default;
    Expected(const E& error) : error_(error), failed_(true) {}
    Expected(E&& error) : error_(std::move(error)), failed_(true) {}

    bool has_value() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return has_value(); }
    void value() const noexcept { assert(has_value()); }

    const E& error() const& { return error_; }
    E&& error() && { return std::move(error_); }

    template <typename F>
    auto and_then(F&& f) const -> std::invoke_result_t<F> {
        if (has_value()) return std::forward<F>(f)();
        return error_;
    }

private:
    E error_{};
    bool failed_ = false;
};

}  // namespace buntime::base
