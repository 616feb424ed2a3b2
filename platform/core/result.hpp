#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "platform/core/error.hpp"

namespace clinicore::core {

// Result<T>: a value or an Error, the way expected failures travel (std::expected is C++23).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

struct Unit {};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status Ok() {
  return {};
}

}  // namespace clinicore::core

// The early return every handler and service would otherwise spell out:
//   CLINICORE_TRY(auto clinic, store.Find(tx, id));   // declares `clinic` from the value
//   CLINICORE_TRY_STATUS(ValidateHours(hours));        // for Status / Result<void>
// On failure the enclosing function returns the error (it must return a Result or Status).
#define CLINICORE_TRY_CONCAT_INNER(a, b) a##b
#define CLINICORE_TRY_CONCAT(a, b) CLINICORE_TRY_CONCAT_INNER(a, b)
#define CLINICORE_TRY_IMPL(result, lhs, expr)    \
  auto result = (expr);                          \
  if (!result) return std::move(result).error(); \
  lhs = std::move(result).value()
#define CLINICORE_TRY(lhs, expr) CLINICORE_TRY_IMPL(CLINICORE_TRY_CONCAT(clinicore_try_, __LINE__), lhs, expr)
#define CLINICORE_TRY_STATUS(expr)                                                                                 \
  do {                                                                                                             \
    if (auto clinicore_try_status = (expr); !clinicore_try_status) return std::move(clinicore_try_status).error(); \
  } while (false)

namespace clinicore::core {}  // namespace clinicore::core
