// Waiting on a condition in the integration tests: polls `pred` (a process's
// file appearing, a record row, a log line) until it holds or the deadline
// passes, and says which. The condition is the event waited for; the poll
// interval is not a synchronisation.
#pragma once

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

}  // namespace avctl::testutil
