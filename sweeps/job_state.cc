#include "sweeps/job_state.h"

#include <fmt/format.h>

namespace avctl {

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kDone: return "done";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
    case JobState::kHeld: return "held";
    case JobState::kNotNeeded: return "not_needed";
  }
  return "?";
}

const char* AttemptStateName(AttemptState s) {
  switch (s) {
    case AttemptState::kRunning: return "running";
    case AttemptState::kSucceeded: return "succeeded";
    case AttemptState::kFailed: return "failed";
    case AttemptState::kLost: return "lost";
    case AttemptState::kCancelled: return "cancelled";
    case AttemptState::kPreempted: return "preempted";
  }
  return "?";
}

Result<JobState> ParseJobState(const std::string& s) {
  for (JobState v : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kFailed, JobState::kCancelled,
                     JobState::kHeld, JobState::kNotNeeded}) {
    if (s == JobStateName(v)) return v;
  }
  return Status::InvalidArgument(fmt::format(
      "unknown job state \"{}\" (expected queued, running, done, failed, cancelled, held or not_needed)", s));
}

Result<AttemptState> ParseAttemptState(const std::string& s) {
  for (AttemptState v : {AttemptState::kRunning, AttemptState::kSucceeded, AttemptState::kFailed, AttemptState::kLost,
                         AttemptState::kCancelled, AttemptState::kPreempted}) {
    if (s == AttemptStateName(v)) return v;
  }
  return Status::InvalidArgument(fmt::format("unknown attempt state \"{}\"", s));
}

Status CheckDispatch(const JobView& job) {
  if (job.state != JobState::kQueued) {
    return Status::FailedPrecondition(fmt::format("cannot dispatch a job that is {}", JobStateName(job.state)));
  }
  return Status::OK();
}

namespace {

Transition Make(JobState job, AttemptState attempt) {
  Transition t;
  t.job = job;
  t.attempt = attempt;
  return t;
}

bool IsCurrent(const JobView& job, int64_t attempt_id) { return job.current_attempt == attempt_id; }

// The job after one of its attempts ended without a result.
Transition EndWithoutResult(const JobView& job, int64_t attempt_id, AttemptState attempt_after, bool retryable,
                            const std::string& reason) {
  Transition t = Make(job.state, attempt_after);
  if (!IsCurrent(job, attempt_id) || job.state != JobState::kRunning) {
    t.note = fmt::format("attempt {} {} after it was replaced: {}", attempt_id, AttemptStateName(attempt_after), reason);
    return t;  // the job moved on (requeued, done or cancelled): only the attempt is recorded
  }
  t.clear_current = true;
  if (!retryable) {
    t.job = JobState::kFailed;
    t.note = reason;
  } else if (job.attempts < job.max_attempts) {
    t.job = JobState::kQueued;
    t.note = fmt::format("requeued after attempt {} of {}: {}", job.attempts, job.max_attempts, reason);
  } else {
    t.job = JobState::kFailed;
    t.note = fmt::format("gave up after {} attempt(s); last: {}", job.attempts, reason);
  }
  return t;
}

}  // namespace

Transition OnResult(const JobView& job, int64_t attempt_id, AttemptState attempt) {
  Transition t = Make(job.state, AttemptState::kSucceeded);
  if (job.has_result || job.state == JobState::kDone) {
    t.duplicate = true;
    t.note = fmt::format("duplicate result from attempt {}: the job already has one", attempt_id);
    return t;
  }
  if (job.state == JobState::kCancelled) {
    t.note = fmt::format("result from attempt {} of a cancelled job: not stored", attempt_id);
    return t;
  }
  // Queued (requeued after a loss), running, or failed after a loss: the
  // work was done; keep it.
  t.job = JobState::kDone;
  t.store_result = true;
  t.clear_current = true;
  if (job.state == JobState::kRunning && !IsCurrent(job, attempt_id) && job.current_attempt != 0) {
    t.cancel_current = true;
    t.note = fmt::format("late result from attempt {} ({}) stored; attempt {} cancelled", attempt_id,
                         AttemptStateName(attempt), job.current_attempt);
  } else if (attempt != AttemptState::kRunning) {
    t.note = fmt::format("late result from attempt {} ({}) stored", attempt_id, AttemptStateName(attempt));
  }
  return t;
}

Transition OnFailure(const JobView& job, int64_t attempt_id, AttemptState attempt, FailureKind kind,
                     const std::string& reason, bool out_of_memory) {
  (void)attempt;
  if (kind == FailureKind::kPreempted) {
    Transition t = Make(job.state, AttemptState::kPreempted);
    if (!IsCurrent(job, attempt_id) || job.state != JobState::kRunning) {
      t.note = fmt::format("attempt {} preempted after it was replaced: {}", attempt_id, reason);
      return t;
    }
    t.job = JobState::kQueued;
    t.clear_current = true;
    t.refund_attempt = true;
    t.note = fmt::format("preempted, requeued (not counted against max_attempts): {}", reason);
    return t;
  }
  if (out_of_memory) {
    Transition t;
    if (job.out_of_memory_failures >= 1) {
      t = EndWithoutResult(job, attempt_id, AttemptState::kFailed, false,
                           fmt::format("too large for the fleet: out of memory on {} workers (lower its batch size or "
                                       "model, or add a worker with more memory); last: {}",
                                       job.out_of_memory_failures + 1, reason));
    } else {
      t = EndWithoutResult(job, attempt_id, AttemptState::kFailed, true,
                           fmt::format("out of memory, tried once more on another worker: {}", reason));
    }
    t.out_of_memory = true;
    return t;
  }
  return EndWithoutResult(job, attempt_id, AttemptState::kFailed, kind != FailureKind::kJob,
                          fmt::format("{} failure: {}", FailureKindName(kind), reason));
}

Transition OnLost(const JobView& job, int64_t attempt_id, AttemptState attempt, const std::string& reason,
                  bool never_started) {
  if (attempt != AttemptState::kRunning) {
    return Make(job.state, attempt);  // already ended
  }
  if (never_started && IsCurrent(job, attempt_id) && job.state == JobState::kRunning) {
    Transition t = Make(JobState::kQueued, AttemptState::kLost);
    t.clear_current = true;
    t.refund_attempt = true;
    t.note = fmt::format("requeued (not counted against max_attempts): {}", reason);
    return t;
  }
  return EndWithoutResult(job, attempt_id, AttemptState::kLost, true, reason);
}

Transition OnCancel(const JobView& job) {
  Transition t = Make(job.state, AttemptState::kCancelled);
  if (job.state == JobState::kQueued || job.state == JobState::kRunning || job.state == JobState::kHeld) {
    t.job = JobState::kCancelled;
    t.cancel_current = job.current_attempt != 0;
    t.clear_current = true;
    t.note = "cancelled by the user";
  }
  return t;
}

std::optional<JobState> OnRetry(const JobView& job, bool sequential) {
  if (job.state == JobState::kFailed || job.state == JobState::kCancelled) {
    return sequential ? JobState::kHeld : JobState::kQueued;
  }
  return std::nullopt;
}

}  // namespace avctl
