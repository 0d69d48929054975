// Result<T>: a value or an Error, returned instead of throwing (STYLE.md rule 11).
//
//   Result<Config> r = ParseConfig(path);
//   if (!r) return r.error();          // propagate
//   Use(*r);
//
// Status is Result<void>. Both are [[nodiscard]].
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>
#include <variant>

namespace plexus {

// An error: a human-readable message naming what is wrong and where.
class Error {
 public:
  explicit Error(std::string message) : message_(std::move(message)) {}

  const std::string& message() const { return message_; }

  // Returns a copy with "context: " prepended, for wrapping lower-level errors.
  Error Wrap(std::string_view context) const {
    return Error(fmt::format("{}: {}", context, message_));
  }

 private:
  std::string message_;
};

template <typename... Args>
Error MakeError(fmt::format_string<Args...> f, Args&&... args) {
  return Error(fmt::format(f, std::forward<Args>(args)...));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): `return MakeError(...)` is the idiom
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{""};
  bool ok_ = true;
};

using Status = Result<void>;

inline Status Ok() {
  return {};
}

}  // namespace plexus
