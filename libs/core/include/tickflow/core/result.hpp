// Result<T>: a value or an Error (error tier 3: recoverable failures such as
// I/O, malformed input, bad requests). Modeled on std::expected / absl::StatusOr.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "tickflow/core/check.hpp"

namespace tickflow {

enum class ErrorCode : std::uint8_t {
  kInvalidArgument,  // a request or flag value is malformed
  kNotFound,         // unknown symbol, file, key
  kParse,            // malformed input data (CSV row, SBE frame, time text)
  kIo,               // file system or database I/O failed
  kCorrupt,          // stored data does not decode
  kOutOfRange,       // a value is outside what the representation holds
  kAlreadyExists,
  kUnavailable,      // a server or resource is not reachable
  kCancelled,
  kPermissionDenied,  // the server refused: credentials or permissions
  kBusy,              // another writer holds the resource (named in the message)
  kInternal,
};

std::string_view ToString(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { TICKFLOW_CHECK(ok(), "value() on an error Result"); return std::get<0>(v_); }
  const T& value() const& { TICKFLOW_CHECK(ok(), "value() on an error Result"); return std::get<0>(v_); }
  T&& value() && { TICKFLOW_CHECK(ok(), "value() on an error Result"); return std::get<0>(std::move(v_)); }
  const Error& error() const& { TICKFLOW_CHECK(!ok(), "error() on an ok Result"); return std::get<1>(v_); }
  Error&& error() && { TICKFLOW_CHECK(!ok(), "error() on an ok Result"); return std::get<1>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { TICKFLOW_CHECK(!ok_, "error() on an ok Result"); return error_; }
  Error&& error() && { TICKFLOW_CHECK(!ok_, "error() on an ok Result"); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Error MakeError(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace tickflow

// Propagates the error of a Result-returning expression.
#define TICKFLOW_RETURN_IF_ERROR(expr)                        \
  do {                                                        \
    auto tickflow_result_ = (expr);                           \
    if (!tickflow_result_.ok()) {                             \
      return std::move(tickflow_result_).error();             \
    }                                                         \
  } while (0)

#define TICKFLOW_CONCAT_INNER_(a, b) a##b
#define TICKFLOW_CONCAT_(a, b) TICKFLOW_CONCAT_INNER_(a, b)
// Declares `lhs` from the value of a Result, or returns its error.
#define TICKFLOW_ASSIGN_OR_RETURN(lhs, expr) \
  TICKFLOW_ASSIGN_OR_RETURN_IMPL_(TICKFLOW_CONCAT_(tickflow_r_, __LINE__), lhs, expr)
#define TICKFLOW_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return std::move(tmp).error();         \
  lhs = std::move(tmp).value()
