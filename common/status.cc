#include "common/status.h"

#include <cstring>

namespace avctl {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIOError: return "I/O error";
    case StatusCode::kFailedPrecondition: return "failed precondition";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown";
}

Status Status::FromErrno(std::string what, int errno_value) {
  return IOError(std::move(what) + ": " + std::strerror(errno_value));
}

Status& Status::WithFile(const std::string& file) & {
  if (!ok() && file_.empty()) file_ = file;
  return *this;
}

Status& Status::WithField(const std::string& field) & {
  if (!ok() && field_.empty()) field_ = field;
  return *this;
}

Status& Status::WithLine(int64_t line) & {
  if (!ok() && line_ == 0) line_ = line;
  return *this;
}

Status& Status::Annotate(const std::string& what) & {
  if (!ok()) message_ = what + ": " + message_;
  return *this;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out;
  if (!file_.empty()) {
    out += file_;
    if (line_ > 0) out += ":" + std::to_string(line_);
    out += ": ";
  } else if (line_ > 0) {
    out += "line " + std::to_string(line_) + ": ";
  }
  // A message that already starts with its JSON path ("a.b: expected ...") names the field itself.
  if (!field_.empty() && message_.rfind(field_ + ":", 0) != 0) out += "field '" + field_ + "': ";
  out += message_;
  return out;
}

}  // namespace avctl
