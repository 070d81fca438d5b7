#include "sweeps/job_state.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

JobView Running(int64_t attempt, int attempts, int max_attempts) {
  JobView v;
  v.state = JobState::kRunning;
  v.current_attempt = attempt;
  v.attempts = attempts;
  v.max_attempts = max_attempts;
  return v;
}

TEST(JobState, DispatchOnlyFromQueued) {
  JobView v;
  EXPECT_TRUE(CheckDispatch(v).ok());
  v.state = JobState::kRunning;
  EXPECT_FALSE(CheckDispatch(v).ok());
  v.state = JobState::kDone;
  EXPECT_FALSE(CheckDispatch(v).ok());
}

TEST(JobState, ResultOfTheCurrentAttemptIsStored) {
  Transition t = OnResult(Running(5, 1, 3), 5, AttemptState::kRunning);
  EXPECT_EQ(t.job, JobState::kDone);
  EXPECT_EQ(t.attempt, AttemptState::kSucceeded);
  EXPECT_TRUE(t.store_result);
  EXPECT_FALSE(t.duplicate);
  EXPECT_FALSE(t.cancel_current);
}

TEST(JobState, SecondResultIsADuplicateNeverStored) {
  JobView done;
  done.state = JobState::kDone;
  done.has_result = true;
  Transition t = OnResult(done, 5, AttemptState::kSucceeded);
  EXPECT_TRUE(t.duplicate);
  EXPECT_FALSE(t.store_result);
  EXPECT_EQ(t.job, JobState::kDone);
}

TEST(JobState, LateResultOfALostAttemptWinsAndCancelsTheReplacement) {
  // Attempt 5 was declared lost, the job was requeued and attempt 6 runs.
  Transition t = OnResult(Running(6, 2, 3), 5, AttemptState::kLost);
  EXPECT_TRUE(t.store_result);
  EXPECT_EQ(t.job, JobState::kDone);
  EXPECT_TRUE(t.cancel_current);
  // ... or the job waits in the queue.
  JobView queued;
  queued.attempts = 1;
  queued.max_attempts = 3;
  Transition q = OnResult(queued, 5, AttemptState::kLost);
  EXPECT_TRUE(q.store_result);
  EXPECT_FALSE(q.cancel_current);
  // ... or it had given up.
  JobView failed = queued;
  failed.state = JobState::kFailed;
  EXPECT_TRUE(OnResult(failed, 5, AttemptState::kLost).store_result);
}

TEST(JobState, ResultOfACancelledJobIsNotStored) {
  JobView c;
  c.state = JobState::kCancelled;
  Transition t = OnResult(c, 5, AttemptState::kCancelled);
  EXPECT_FALSE(t.store_result);
  EXPECT_EQ(t.job, JobState::kCancelled);
}

TEST(JobState, JobFailuresAreNotRetried) {
  Transition t = OnFailure(Running(5, 1, 3), 5, AttemptState::kRunning, FailureKind::kJob, "NaN loss at epoch 2");
  EXPECT_EQ(t.job, JobState::kFailed);
  EXPECT_EQ(t.attempt, AttemptState::kFailed);
  EXPECT_NE(t.note.find("NaN loss"), std::string::npos);
}

TEST(JobState, CrashesAreRetriedUntilMaxAttempts) {
  Transition t = OnFailure(Running(5, 1, 2), 5, AttemptState::kRunning, FailureKind::kCrash, "killed by signal 9");
  EXPECT_EQ(t.job, JobState::kQueued);
  EXPECT_TRUE(t.clear_current);
  Transition last = OnFailure(Running(6, 2, 2), 6, AttemptState::kRunning, FailureKind::kCrash, "killed by signal 9");
  EXPECT_EQ(last.job, JobState::kFailed);
  EXPECT_NE(last.note.find("gave up after 2 attempt(s)"), std::string::npos);
}

TEST(JobState, APreemptedAttemptRequeuesAtOnceAndIsNotCounted) {
  // On its last allowed attempt: a crash would fail the job, a preemption requeues it.
  Transition t = OnFailure(Running(6, 2, 2), 6, AttemptState::kRunning, FailureKind::kPreempted,
                           "stopped by signal 15 after 3 epochs");
  EXPECT_EQ(t.job, JobState::kQueued);
  EXPECT_EQ(t.attempt, AttemptState::kPreempted);
  EXPECT_TRUE(t.clear_current);
  EXPECT_TRUE(t.refund_attempt);
  EXPECT_NE(t.note.find("not counted against max_attempts"), std::string::npos);
  // A replaced attempt's preemption leaves the job alone.
  Transition late = OnFailure(Running(7, 2, 2), 6, AttemptState::kLost, FailureKind::kPreempted, "late");
  EXPECT_EQ(late.job, JobState::kRunning);
  EXPECT_FALSE(late.refund_attempt);
  auto parsed = ParseAttemptState("preempted");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, AttemptState::kPreempted);
  EXPECT_EQ(*ParseFailureKind("preempted", "kind"), FailureKind::kPreempted);
}

TEST(JobState, LostAttemptsRequeue) {
  Transition t = OnLost(Running(5, 1, 3), 5, AttemptState::kRunning, "worker w1 silent for 3 s");
  EXPECT_EQ(t.job, JobState::kQueued);
  EXPECT_EQ(t.attempt, AttemptState::kLost);
  Transition last = OnLost(Running(5, 3, 3), 5, AttemptState::kRunning, "worker w1 silent");
  EXPECT_EQ(last.job, JobState::kFailed);
  // An attempt that already ended is not lost again.
  Transition ended = OnLost(Running(6, 2, 3), 5, AttemptState::kFailed, "late");
  EXPECT_EQ(ended.job, JobState::kRunning);
  EXPECT_EQ(ended.attempt, AttemptState::kFailed);
}

// Found by dispatch_bench (60,000 jobs, 100 workers, max_attempts 1): a
// worker whose connection was renewed while a dispatch was in flight came
// back without it, and the job failed without ever running. The same daemon
// process never got it: requeued, not counted, even on the last attempt.
TEST(JobState, ADispatchThatNeverReachedALiveWorkerRequeuesUncounted) {
  Transition t = OnLost(Running(5, 1, 1), 5, AttemptState::kRunning, "its dispatch never reached worker w1", true);
  EXPECT_EQ(t.job, JobState::kQueued);
  EXPECT_EQ(t.attempt, AttemptState::kLost);
  EXPECT_TRUE(t.refund_attempt);
  EXPECT_TRUE(t.clear_current);
  EXPECT_NE(t.note.find("not counted"), std::string::npos) << t.note;
  // A restarted worker (or a silent one) may have died of the job: counted.
  Transition restarted = OnLost(Running(5, 1, 1), 5, AttemptState::kRunning, "worker w1 reconnected without it");
  EXPECT_EQ(restarted.job, JobState::kFailed);
  EXPECT_FALSE(restarted.refund_attempt);
  // Only the job's current attempt moves it.
  Transition replaced = OnLost(Running(6, 2, 3), 5, AttemptState::kRunning, "never reached", true);
  EXPECT_EQ(replaced.job, JobState::kRunning);
  EXPECT_FALSE(replaced.refund_attempt);
}

TEST(JobState, FailureOfAReplacedAttemptLeavesTheJobAlone) {
  Transition t = OnFailure(Running(6, 2, 3), 5, AttemptState::kLost, FailureKind::kCrash, "killed");
  EXPECT_EQ(t.job, JobState::kRunning);
  EXPECT_FALSE(t.clear_current);
}

TEST(JobState, CancelAndRetry) {
  Transition t = OnCancel(Running(5, 1, 3));
  EXPECT_EQ(t.job, JobState::kCancelled);
  EXPECT_TRUE(t.cancel_current);
  JobView done;
  done.state = JobState::kDone;
  EXPECT_EQ(OnCancel(done).job, JobState::kDone);
  EXPECT_EQ(OnRetry(done), std::nullopt);
  JobView failed;
  failed.state = JobState::kFailed;
  EXPECT_EQ(OnRetry(failed), JobState::kQueued);
  EXPECT_EQ(OnRetry(failed, true), JobState::kHeld) << "a sequential sweep's scheduler releases what its looks need";
  JobView held;
  held.state = JobState::kHeld;
  EXPECT_EQ(OnCancel(held).job, JobState::kCancelled);
  EXPECT_FALSE(OnCancel(held).cancel_current) << "a held job has no attempt";
  JobView not_needed;
  not_needed.state = JobState::kNotNeeded;
  EXPECT_EQ(OnRetry(not_needed), std::nullopt) << "sweep retry leaves jobs that were not needed alone";
  EXPECT_EQ(OnRetry(not_needed, true), std::nullopt);
  EXPECT_EQ(OnCancel(not_needed).job, JobState::kNotNeeded);
}

TEST(JobState, NamesRoundTrip) {
  for (JobState s : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kFailed, JobState::kCancelled,
                     JobState::kHeld, JobState::kNotNeeded}) {
    EXPECT_EQ(*ParseJobState(JobStateName(s)), s);
  }
  EXPECT_FALSE(ParseJobState("finished").ok());
}

// Out of memory: tried once more (elsewhere: the transition marks the
// attempt so the scheduler avoids its worker), then the job is too large
// for the fleet and fails without spending its other attempts.
TEST(JobState, OutOfMemoryIsRetriedOnceThenTheJobIsTooLargeForTheFleet) {
  Transition first = OnFailure(Running(5, 1, 5), 5, AttemptState::kRunning, FailureKind::kWorker,
                               "CUDA out of memory", true);
  EXPECT_EQ(first.job, JobState::kQueued);
  EXPECT_EQ(first.attempt, AttemptState::kFailed);
  EXPECT_TRUE(first.out_of_memory);
  EXPECT_NE(first.note.find("out of memory, tried once more on another worker"), std::string::npos) << first.note;
  JobView again = Running(6, 2, 5);
  again.out_of_memory_failures = 1;
  Transition second = OnFailure(again, 6, AttemptState::kRunning, FailureKind::kWorker, "CUDA out of memory", true);
  EXPECT_EQ(second.job, JobState::kFailed) << "not retried although 3 attempts are left";
  EXPECT_TRUE(second.out_of_memory);
  EXPECT_NE(second.note.find("too large for the fleet: out of memory on 2 workers"), std::string::npos) << second.note;
  // An ordinary crash after an out-of-memory attempt is retried as usual.
  Transition crash = OnFailure(again, 6, AttemptState::kRunning, FailureKind::kCrash, "segfault");
  EXPECT_EQ(crash.job, JobState::kQueued);
  EXPECT_FALSE(crash.out_of_memory);
}

}  // namespace
}  // namespace avctl
