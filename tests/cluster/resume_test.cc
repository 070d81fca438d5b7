// Preemption-safe jobs with real processes (issue 17): a worker SIGKILLed in
// epoch k, or stopped by SIGTERM, has its job resumed by another worker from
// the last checkpoint in the sweep's shared checkpoint folder, and the job's
// result (metrics, curves, predictions) is bit-identical to a fault-free run
// of the same job. A SIGTERM stop is a preemption, not a failed attempt; a
// damaged checkpoint is skipped with its reason.
#include <signal.h>

#include <chrono>

#include "common/file_util.h"
#include "tests/cluster/cluster_fixture.h"
#include "worker/checkpoint_file.h"

namespace avctl {
namespace {

using testutil::ChildProcess;
using testutil::WaitUntil;
namespace fs = std::filesystem;

class ResumeClusterTest : public testutil::ClusterTest {
 protected:
  // One job per variant, long enough (8 epochs) to be caught mid-way.
  Json Spec(const std::string& name, int max_attempts) {
    Json spec = testutil::TinyTrainingSweep(name, 1, 8, 4, max_attempts);
    spec["checkpoint_dir"] = (dir_ / "shared-checkpoints").string();
    return spec;
  }

  // The fault-free run: a sweep of the same jobs under another name.
  void RunReference() {
    Json submitted = Call({{"op", "submit"}, {"spec", Spec("reference", 3)}, {"source", "resume_test"}});
    ASSERT_EQ(submitted.value("jobs", 0), 2) << submitted.dump();
    ChildProcess* w = StartWorker(1);
    ASSERT_TRUE(WaitUntil([&] { return Status("reference").value("finished", false); }, 180)) << w->Log();
    w->Signal(SIGTERM);
    ASSERT_EQ(w->Wait(30000), 0) << w->Log();
  }

  // What training computed, without the timings that differ between runs.
  Json Computed(const std::string& sweep, const std::string& variant) {
    auto result = ParseJson(Text(fmt::format("SELECT r.result FROM results r JOIN jobs j ON j.id = r.job_id JOIN sweeps s "
                                             "ON s.id = j.sweep_id WHERE s.name = '{}' AND j.variant = '{}'",
                                             sweep, variant)), "result");
    EXPECT_TRUE(result.ok());
    if (!result.ok()) return Json();
    Json epochs = Json::array();
    for (Json e : (*result)["epochs"]) {
      for (const char* k : {"seconds", "train_seconds", "data_wait_seconds", "train_clips_per_s"}) e.erase(k);
      epochs.push_back(e);
    }
    return {{"epochs", epochs}, {"selected_epoch", (*result)["selected_epoch"]}, {"dev", (*result)["dev"]},
            {"test", (*result)["test"]}};
  }

  // Waits until worker w's attempt of the sweep's ladder_av job has written
  // a checkpoint after at least `epochs` epochs and still runs; its attempt id.
  int64_t WaitForCheckpoint(const std::string& sweep, const std::string& worker, int epochs) {
    const std::string running = fmt::format(
        "SELECT COUNT(*) FROM attempts a JOIN jobs j ON j.id = a.job_id JOIN sweeps s ON s.id = j.sweep_id "
        "WHERE s.name = '{}' AND j.variant = 'ladder_av' AND a.worker_id = '{}' AND a.state = 'running' "
        "AND a.checkpoint_epochs >= {}", sweep, worker, epochs);
    EXPECT_TRUE(WaitUntil([&] { return Count(running) > 0; }, 180)) << coord_->Log();
    return Count(fmt::format("SELECT a.id FROM attempts a JOIN jobs j ON j.id = a.job_id JOIN sweeps s "
                             "ON s.id = j.sweep_id WHERE s.name = '{}' AND j.variant = 'ladder_av' "
                             "AND a.worker_id = '{}' ORDER BY a.id DESC LIMIT 1", sweep, worker));
  }

  void ExpectResumedAndIdentical(const std::string& sweep, int64_t victim, int min_epochs) {
    ASSERT_TRUE(WaitUntil([&] { return Status(sweep).value("finished", false); }, 180)) << coord_->Log();
    EXPECT_EQ(Status(sweep)["states"]["done"], 2);
    const int64_t job = Count(fmt::format("SELECT job_id FROM attempts WHERE id = {}", victim));
    const int64_t winner = Count(fmt::format("SELECT attempt_id FROM results WHERE job_id = {}", job));
    EXPECT_NE(winner, victim);
    // The new attempt began where the victim's last checkpoint left the job.
    const int64_t resumed = Count(fmt::format("SELECT COALESCE(resumed_epochs, -1) FROM attempts WHERE id = {}", winner));
    EXPECT_GE(resumed, min_epochs) << "the retried attempt did not resume";
    EXPECT_EQ(Count(fmt::format("SELECT COUNT(*) FROM attempts WHERE id = {} AND resumed_from LIKE '%epoch-%.ckpt'",
                                winner)), 1);
    for (const char* variant : {"ladder_av", "backbone"}) {
      EXPECT_EQ(Computed(sweep, variant), Computed("reference", variant)) << variant << " differs from the fault-free run";
    }
  }
};

TEST_F(ResumeClusterTest, AWorkerKilledMidJobHasItsJobResumedElsewhereWithTheSameBits) {
  StartCoordinator();
  RunReference();
  Call({{"op", "submit"}, {"spec", Spec("killed", 3)}, {"source", "resume_test"}});
  ChildProcess* victim_worker = StartWorker(1);
  const int64_t victim = WaitForCheckpoint("killed", "w1", 2);
  victim_worker->Kill(SIGKILL);  // the job's process dies with it (parent-death signal)
  StartWorker(2);
  ExpectResumedAndIdentical("killed", victim, 2);
  EXPECT_EQ(Count(fmt::format("SELECT COUNT(*) FROM attempts WHERE id = {} AND state = 'lost'", victim)), 1);
}

TEST_F(ResumeClusterTest, ASigtermStopIsAPreemptionThatResumesAndIsNotCountedAsAnAttempt) {
  StartCoordinator();
  RunReference();
  // One attempt allowed: a stop counted as a failure would fail the job.
  Call({{"op", "submit"}, {"spec", Spec("stopped", 1)}, {"source", "resume_test"}});
  ChildProcess* stopped = StartWorker(1);
  const int64_t victim = WaitForCheckpoint("stopped", "w1", 2);
  const auto t0 = std::chrono::steady_clock::now();
  stopped->Signal(SIGTERM);
  EXPECT_EQ(stopped->Wait(30000), 0) << stopped->Log();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 25.0) << "the stop must fit Slurm's kill-wait";
  EXPECT_EQ(Count(fmt::format("SELECT COUNT(*) FROM attempts WHERE id = {} AND state = 'preempted'", victim)), 1)
      << coord_->Log();
  StartWorker(2);
  ExpectResumedAndIdentical("stopped", victim, 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs j JOIN sweeps s ON s.id = j.sweep_id WHERE s.name = 'stopped' "
                  "AND j.attempts > 1"), 0);
}

TEST_F(ResumeClusterTest, ADamagedCheckpointIsSkippedWithItsReasonAndTheOneBeforeItResumes) {
  StartCoordinator();
  RunReference();
  Call({{"op", "submit"}, {"spec", Spec("damaged", 3)}, {"source", "resume_test"}});
  ChildProcess* victim_worker = StartWorker(1);
  const int64_t victim = WaitForCheckpoint("damaged", "w1", 3);
  victim_worker->Kill(SIGKILL);
  // Flip one byte of the newest checkpoint the victim left (it may have
  // written one more than the record heard of before it died).
  const fs::path folder =
      fs::path(Text(fmt::format("SELECT checkpoint FROM attempts WHERE id = {}", victim))).parent_path();
  std::string newest;
  CheckpointPosition newest_at;
  for (const auto& e : fs::directory_iterator(folder)) {
    auto at = ParseCheckpointFileName(e.path().filename().string());
    if (at && (newest.empty() || newest_at < *at)) {
      newest = e.path().string();
      newest_at = *at;
    }
  }
  ASSERT_FALSE(newest.empty()) << folder;
  auto bytes = ReadFileToString(newest);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  std::string damaged = *bytes;
  damaged[damaged.size() / 2] ^= 0x01;
  ASSERT_TRUE(WriteFileAtomic(newest, damaged).ok());
  StartWorker(2);
  ExpectResumedAndIdentical("damaged", victim, 2);
  const int64_t job = Count(fmt::format("SELECT job_id FROM attempts WHERE id = {}", victim));
  auto result = ParseJson(Text(fmt::format("SELECT result FROM results WHERE job_id = {}", job)), "result");
  ASSERT_TRUE(result.ok());
  const Json skipped = (*result)["resume"]["skipped"];
  ASSERT_EQ(skipped.size(), 1u) << result->dump();
  EXPECT_NE(skipped[0].get<std::string>().find("checksum mismatch"), std::string::npos) << skipped.dump();
  EXPECT_NE(skipped[0].get<std::string>().find(fs::path(newest).filename().string()), std::string::npos);
}

}  // namespace
}  // namespace avctl
