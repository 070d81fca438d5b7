// Wall-clock time as the record stores it: seconds since the Unix epoch.
#pragma once

#include <chrono>

namespace avctl {

inline double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace avctl
