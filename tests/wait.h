// Waiting on a condition in the integration tests: polls `pred` (a process's
// file appearing, a record row, a log line) until it holds or the deadline
// passes, and says which. The condition is the event waited for; the poll
// interval is not a synchronisation.
#pragma once

#include <poll.h>

#include <chrono>
#include <functional>
#include <thread>

namespace avctl::testutil {

inline bool WaitUntil(const std::function<bool()>& pred, int timeout_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// Whether `fd` becomes readable within `timeout_ms` (0: now): the event
// itself, waited on by poll(2).
inline bool Readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

}  // namespace avctl::testutil
