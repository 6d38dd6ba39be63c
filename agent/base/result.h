// Errors from the outside world (kernel, RabbitMQ, Neutron data, files) travel as values: every
// fallible call returns Result<T> (or Status = Result<void>). Broken invariants are assertions.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/strings.h"

namespace nwg {

// An error: a message that names the object and the cause, and the errno when it came from the
// system (0 otherwise), so callers can tell "absent" (ENOENT, ENODEV) from real failures.
struct Error {
  std::string message;
  int code = 0;

  Error() = default;
  explicit Error(std::string msg, int err = 0) : message(std::move(msg)), code(err) {}

  // "what: <strerror(err)>", carrying err.
  static Error fromErrno(int err, std::string_view what);

  // The same error with "prefix: " in front, e.g. Error("device wg-abc").context(...).
  [[nodiscard]] Error context(std::string_view prefix) const&;
  [[nodiscard]] Error context(std::string_view prefix) &&;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

  T valueOr(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { assert(!ok()); return *error_; }
  Error&& error() && { assert(!ok()); return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status okStatus() { return {}; }

// Builds an Error from streamable parts: return fail("device ", name, " has no key");
template <typename... Parts>
Error fail(const Parts&... parts) {
  return Error(str(parts...));
}

}  // namespace nwg

// Propagate an error to the caller, optionally with context.
#define NWG_CONCAT_INNER(a, b) a##b
#define NWG_CONCAT(a, b) NWG_CONCAT_INNER(a, b)

#define NWG_RETURN_IF_ERROR(expr)                                        \
  do {                                                                   \
    auto nwg_status_ = (expr);                                           \
    if (!nwg_status_.ok()) return std::move(nwg_status_).error();        \
  } while (0)

#define NWG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).error();   \
  lhs = std::move(tmp).value()

// NWG_ASSIGN_OR_RETURN(auto device, backend.get(ref));
#define NWG_ASSIGN_OR_RETURN(lhs, expr) \
  NWG_ASSIGN_OR_RETURN_IMPL(NWG_CONCAT(nwg_result_, __LINE__), lhs, expr)
