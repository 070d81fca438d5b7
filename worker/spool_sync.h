// When a spooled result is made durable. A finished attempt's result is
// written to the worker's spool without fsync: the coordinator normally
// stores it in its record and acknowledges it within milliseconds, and the
// spool folder is removed then, so two fsyncs per job (file and folder)
// would buy nothing and cost about a third of the worker's time per short
// job (bench/RESULTS.md). One still unacknowledged after `delay` (the
// coordinator is away, the worker runs degraded) is synced then, so that a
// machine crash does not lose an hours-long job's result.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace avctl {

class SpoolSyncQueue {
 public:
  using Clock = std::chrono::steady_clock;
  explicit SpoolSyncQueue(Clock::duration delay) : delay_(delay) {}

  // A result of `attempt` was written to the spool at `now`.
  void Written(int64_t attempt, Clock::time_point now);
  // Its result was acknowledged (or the attempt dropped): no sync needed.
  void Forget(int64_t attempt);
  // The attempts whose results are due for a sync at `now`, oldest first;
  // they leave the queue.
  std::vector<int64_t> TakeDue(Clock::time_point now);
  // When the next one falls due, if any.
  std::optional<Clock::time_point> NextDue() const;
  size_t size() const { return due_.size(); }

 private:
  Clock::duration delay_;
  std::map<int64_t, Clock::time_point> due_;  // attempt -> when to sync
};

// fsync of `dir`/`file` (when it exists), of `dir` and of `dir`'s parent, so
// that the file, its name and the folder's name all survive a machine crash.
Status SyncSpooledFile(const std::string& dir, const std::string& file);

}  // namespace avctl
