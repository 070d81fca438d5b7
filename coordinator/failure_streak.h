// When to stop feeding a worker: one broken node (a driver gone, a file
// system not mounted) fails in seconds what healthy nodes run for hours, so
// it would otherwise fail the whole queue, a job at a time. A worker whose
// attempts of several different jobs failed in a row is held; the broker
// never holds the last worker still taking jobs, so a program that fails
// everywhere still ends its jobs with their reasons. Pure: the broker
// (coordinator/worker_broker.h) feeds it the worker's reports.
#pragma once

#include <cstdint>
#include <set>
#include <string>

namespace avctl {

struct FailureStreakOptions {
  int distinct_jobs = 3;  // failures of this many different jobs in a row
};

class FailureStreak {
 public:
  explicit FailureStreak(FailureStreakOptions options = {}) : opt_(options) {}

  // An attempt of `job_id` failed on this worker in a way a broken node
  // causes (a crash or a worker failure; not the job's own fault, not out
  // of memory, not a preemption). True once the streak holds enough
  // different jobs.
  bool OnFailure(int64_t job_id, const std::string& reason);
  // A result of this worker was stored: the streak ends.
  void OnSuccess();

  int failures() const { return failures_; }
  // Why it is held: "3 attempts of 3 different jobs failed here in a row; last: ...".
  std::string Why() const;

 private:
  FailureStreakOptions opt_;
  int failures_ = 0;
  std::set<int64_t> jobs_;
  std::string last_reason_;
};

}  // namespace avctl
