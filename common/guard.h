// The last line of defence of a daemon's handlers: a handler reports trouble
// as a Status, and an exception that still escapes one (a bug, or a library
// that throws on input nobody thought of) is turned into an Internal status
// naming the request, so that one bad message cannot end the process. The
// caller logs it, counts it and answers with it; nothing is swallowed.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "common/status.h"

namespace avctl {

template <typename F>
Status RunGuarded(const std::string& what, F&& f) {
  try {
    std::forward<F>(f)();
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("{}: unexpected exception: {}", what, e.what()));
  }
}

}  // namespace avctl
