// Status and Result<T>: how every fallible function in avctl reports failure.
//
// A Status carries a code, a message and optional context: the file, the
// field (column, JSON path, option name) and the 1-based line at fault.
// ToString() renders "file:line: field 'x': message", so an error printed by
// any tool names exactly what was wrong and where.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace avctl {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input given by the user (flag, spec, file content)
  kNotFound,            // a file, clip, row or key that should exist does not
  kAlreadyExists,       // refusing to overwrite
  kCorruption,          // stored data fails its checksum or size checks
  kIOError,             // the operating system said no
  kFailedPrecondition,  // the operation does not apply to the current state
  kInternal,            // a bug: an invariant did not hold
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  // An IOError whose message ends with strerror(errno_value).
  static Status FromErrno(std::string what, int errno_value);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  int64_t line() const { return line_; }  // 0 when unknown

  // Context setters. Each fills its slot only if it is still empty, so the
  // innermost (most precise) context wins when callers add theirs on the way out.
  Status& WithFile(const std::string& file) &;
  Status& WithField(const std::string& field) &;
  Status& WithLine(int64_t line) &;
  Status&& WithFile(const std::string& file) && { return std::move(WithFile(file)); }
  Status&& WithField(const std::string& field) && { return std::move(WithField(field)); }
  Status&& WithLine(int64_t line) && { return std::move(WithLine(line)); }
  // Prefixes the message: "what: message".
  Status& Annotate(const std::string& what) &;
  Status&& Annotate(const std::string& what) && { return std::move(Annotate(what)); }

  // "file:line: field 'f': message" with the parts that are known.
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string file_;
  std::string field_;
  int64_t line_ = 0;
};

// A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}                   // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {            // NOLINT: implicit by design
    if (status_.ok()) status_ = Status::Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  Status&& TakeStatus() && { return std::move(status_); }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace avctl

#define AVCTL_CONCAT_INNER_(a, b) a##b
#define AVCTL_CONCAT_(a, b) AVCTL_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define AVCTL_RETURN_IF_ERROR(expr)                 \
  do {                                              \
    ::avctl::Status avctl_status_ = (expr);         \
    if (!avctl_status_.ok()) return avctl_status_;  \
  } while (0)

// `AVCTL_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result or returns its Status.
#define AVCTL_ASSIGN_OR_RETURN(lhs, expr) \
  AVCTL_ASSIGN_OR_RETURN_IMPL_(AVCTL_CONCAT_(avctl_result_, __LINE__), lhs, expr)
#define AVCTL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).TakeStatus(); \
  lhs = std::move(tmp).value()
