// The state machine of jobs and their attempts, as pure decisions: what a
// result, a failure or a lost worker does to a job. The coordinator's record
// (db/record.h) applies the decision in one SQLite transaction.
//
//   job:      queued -> running -> done | failed | cancelled; running -> queued (requeue)
//             held -> queued | not_needed | cancelled (a group-sequential sweep's later stages:
//             coordinator/sequential_scheduler.h releases them, or ends them not needed once
//             their comparisons are decided); queued -> not_needed likewise
//   attempt:  running -> succeeded | failed | lost | cancelled | preempted
//
// A preempted attempt (stopped on request after a checkpoint), and one whose
// dispatch never reached its worker, requeue the job at once and are not
// counted against max_attempts.
//
// A job has at most one result. A late result (from an attempt already
// declared lost) is stored if the job has none yet, and the attempt that
// replaced it is then cancelled; a result for a job that has one is recorded
// as a duplicate and never stored again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/protocol.h"
#include "common/status.h"

namespace avctl {

enum class JobState { kQueued, kRunning, kDone, kFailed, kCancelled, kHeld, kNotNeeded };
enum class AttemptState { kRunning, kSucceeded, kFailed, kLost, kCancelled, kPreempted };

const char* JobStateName(JobState s);
const char* AttemptStateName(AttemptState s);
Result<JobState> ParseJobState(const std::string& s);
Result<AttemptState> ParseAttemptState(const std::string& s);

struct JobView {
  JobState state = JobState::kQueued;
  int attempts = 0;               // attempts dispatched so far
  int max_attempts = 1;
  int64_t current_attempt = 0;    // the running attempt, 0 if none
  bool has_result = false;
  int out_of_memory_failures = 0; // its attempts that ran out of memory so far
};

struct Transition {
  JobState job = JobState::kQueued;            // the job's new state
  AttemptState attempt = AttemptState::kRunning;  // the reporting attempt's new state
  bool store_result = false;      // keep this attempt's result as the job's result
  bool duplicate = false;         // a result for a job that already has one (recorded, not stored)
  bool cancel_current = false;    // the job's current (other) attempt must be cancelled
  bool clear_current = false;     // the job no longer has a current attempt
  bool refund_attempt = false;    // the attempt does not count against max_attempts (preempted)
  bool out_of_memory = false;     // the attempt ran out of memory: its worker is not given the job again
  std::string note;               // for the event log and the job's reason
};

// Dispatching is allowed only from kQueued.
Status CheckDispatch(const JobView& job);
// The attempt `attempt_id` (in state `attempt`) reports a result.
Transition OnResult(const JobView& job, int64_t attempt_id, AttemptState attempt);
// ... reports a failure of `kind` with `reason`. One that ran out of memory
// (`out_of_memory`) is retried once, on another worker; a second fails the
// job as too large for the fleet.
Transition OnFailure(const JobView& job, int64_t attempt_id, AttemptState attempt, FailureKind kind,
                     const std::string& reason, bool out_of_memory = false);
// ... was lost: its worker went silent, or the restart grace period ended.
// `never_started`: the worker that had it is alive and never got it (the
// same daemon process reconnected without it: the dispatch was lost with its
// old connection), so it requeues without counting against max_attempts.
Transition OnLost(const JobView& job, int64_t attempt_id, AttemptState attempt, const std::string& reason,
                  bool never_started = false);
// The user cancels the job's sweep: queued, held and running jobs end cancelled.
Transition OnCancel(const JobView& job);
// The user retries the sweep: failed and cancelled jobs go back to the queue
// with a fresh attempt budget (to held in a group-sequential sweep, whose
// scheduler releases what its looks need); others, "not needed" among them,
// are unchanged.
std::optional<JobState> OnRetry(const JobView& job, bool sequential = false);

}  // namespace avctl
