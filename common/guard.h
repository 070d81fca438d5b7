// The last line of defence of a daemon's handlers: a handler reports trouble
// as a Status, and an exception that still escapes one (a bug, or a library
// that throws on input nobody thought of) is turned into an Internal status
// naming the request, so that one bad message cannot end the process. The
// caller logs it, counts it and answers with it; nothing is swallowed.
#pragma once

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "common/status.h"

namespace avctl {

// `what` names the request: a string, or a callable giving one, called only
// when something escaped (a hot path need not format it for every message).
template <typename What, typename F>
Status RunGuarded(What&& what, F&& f) {
  try {
    std::forward<F>(f)();
    return Status::OK();
  } catch (const std::exception& e) {
    std::string name;
    if constexpr (std::is_invocable_v<What>) {
      name = what();
    } else {
      name = std::string(what);
    }
    return Status::Internal(fmt::format("{}: unexpected exception: {}", name, e.what()));
  }
}

}  // namespace avctl
