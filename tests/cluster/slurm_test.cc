// `avctl workers slurm` for real: a one-node Slurm cluster on localhost
// (scripts/slurm-localhost.sh: munged, slurmctld, slurmd), worker daemons that
// Slurm starts from the script avctl writes, a sweep of tiny training jobs
// through them, and scancel of one worker's Slurm job mid-sweep: its running
// job comes back and every job ends with exactly one result. Where the machine
// cannot run the Slurm daemons (not root, packages missing, daemons refusing
// to start) the test says why and is skipped.
#include <stdlib.h>
#include <unistd.h>

#include <regex>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/cluster/cluster_fixture.h"
#include "tests/process_runner.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;
using testutil::RunCommand;
using testutil::WaitUntil;

const std::string kSlurmUp = std::string(AVCTL_SOURCE_DIR) + "/scripts/slurm-localhost.sh";

class SlurmTest : public testutil::ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    // Short: munged's socket path must fit in 108 bytes.
    slurm_dir_ = fmt::format("/tmp/avslurm-{}", ::getpid());
    if (::getuid() != 0) GTEST_SKIP() << "SKIPPED: the Slurm test needs root to run slurmd (it launches jobs as users)";
    auto up = RunCommand(fmt::format("bash {} up {} 2>&1", kSlurmUp, slurm_dir_));
    if (up.exit_code != 0) {
      GTEST_SKIP() << "SKIPPED: this machine cannot run the Slurm daemons (exit " << up.exit_code << "):\n"
                   << up.output;
    }
    started_ = true;
    ::setenv("SLURM_CONF", (fs::path(slurm_dir_) / "slurm.conf").c_str(), 1);
  }
  void TearDown() override {
    if (started_) {
      RunCommand("scancel --user=root 2>&1");
      RunCommand(fmt::format("bash {} down {} 2>&1", kSlurmUp, slurm_dir_));
      ::unsetenv("SLURM_CONF");
      if (!HasFailure()) fs::remove_all(slurm_dir_);
    }
    ClusterTest::TearDown();
  }

  // Submits one CPU worker daemon through `avctl workers slurm`; returns its Slurm job id.
  std::string SubmitWorker(const std::string& name) {
    auto r = RunCommand(fmt::format(
        "{}avctl workers slurm --coordinator {} --nodes 1 --gpus-per-node 0 --cpus-per-task 1 --time 00:10:00 --allow-loopback "
        "--work-root {} --log-dir {} --script {} 2>&1",
        testutil::kBin, ep_["workers"].get<std::string>(), (dir_ / "workers").string(),
        (dir_ / "slurm-logs").string(), (dir_ / (name + ".sbatch")).string()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.output, m, std::regex("submitted Slurm job ([0-9]+)"))) << r.output;
    return m.size() > 1 ? m[1].str() : "";
  }

  std::string SlurmLogs() {
    return RunCommand(fmt::format("tail -n 30 {}/log/*.log {}/*.log {}/*.out 2>&1", slurm_dir_,
                                  (dir_ / "slurm-logs").string(), (dir_ / "slurm-logs").string()))
        .output;
  }

  std::string slurm_dir_;
  bool started_ = false;
};

TEST_F(SlurmTest, SlurmStartedWorkersRunTheSweepAndAScancelledWorkersJobComesBack) {
  StartCoordinator();
  // Ten jobs of a few seconds each (on one core), so that a worker is caught mid-job.
  Json spec = testutil::TinyTrainingSweep("slurm", 5, 3, 3, 3);
  spec["checkpoint_dir"] = (dir_ / "checkpoints").string();  // shared by both Slurm workers
  Json submitted = Call({{"op", "submit"}, {"spec", spec}, {"source", "slurm_test"}});
  ASSERT_EQ(submitted.value("jobs", 0), 10) << submitted.dump();

  const std::string first = SubmitWorker("first");
  const std::string second = SubmitWorker("second");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  const std::string victim = "slurm-" + first + "-0";
  ASSERT_TRUE(WaitUntil([&] { return Call({{"op", "ping"}}).value("workers", 0) >= 2; }, 120))
      << SlurmLogs() << coord_->Log();

  // `avctl workers` names the Slurm job of each worker.
  int code = 0;
  std::string out = Avctl("workers", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("slurm:" + first), std::string::npos) << out;
  EXPECT_NE(out.find("slurm:" + second), std::string::npos) << out;

  // scancel the first worker's Slurm job while it runs a job: Slurm sends
  // SIGTERM to every process of the step, the daemon and the job's process
  // alike, then SIGKILL after KillWait (2 s). The job checkpoints at its next
  // batch boundary and the daemon reports it preempted if it still can, or
  // the coordinator declares the silent worker lost; either way the job goes
  // back to the queue and the other worker resumes it from its checkpoint.
  ASSERT_TRUE(WaitUntil([&] {
    // Mid-job: its process has checkpointed an epoch (not merely been dispatched).
    return Count(fmt::format("SELECT COUNT(*) FROM attempts WHERE worker_id = '{}' AND state = 'running' "
                             "AND checkpoint_epochs >= 1", victim)) > 0;
  }, 180)) << SlurmLogs() << coord_->Log();
  auto cancel = RunCommand("scancel " + first + " 2>&1");
  ASSERT_EQ(cancel.exit_code, 0) << cancel.output;
  ASSERT_TRUE(WaitUntil([&] {
    return Count(fmt::format("SELECT COUNT(*) FROM attempts WHERE worker_id = '{}' AND state IN ('lost', 'failed', "
                             "'preempted')", victim)) > 0;
  }, 60)) << SlurmLogs() << coord_->Log();

  ASSERT_TRUE(WaitUntil([&] { return Status("slurm").value("finished", false); }, 420)) << SlurmLogs() << coord_->Log();
  EXPECT_EQ(Status("slurm")["states"]["done"], 10);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 10);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) FROM results"), 10);
  // Each job the victim did not finish was finished by the other Slurm worker,
  // and nothing was received twice.
  EXPECT_EQ(Count(fmt::format("SELECT COUNT(*) FROM attempts a JOIN attempts b ON a.job_id = b.job_id "
                              "WHERE a.worker_id = '{}' AND a.state IN ('lost', 'failed', 'preempted') "
                              "AND b.worker_id = 'slurm-{}-0' AND b.state = 'succeeded'", victim, second)),
            Count(fmt::format("SELECT COUNT(*) FROM attempts WHERE worker_id = '{}' AND state IN ('lost', 'failed', "
                              "'preempted')", victim)));
  // ... from the victim's checkpoint: the job it had checkpointed began
  // there on the other worker instead of at epoch 1.
  EXPECT_GE(Count(fmt::format("SELECT COUNT(*) FROM attempts a JOIN attempts b ON a.job_id = b.job_id "
                              "WHERE a.worker_id = '{}' AND a.checkpoint_epochs >= 1 AND a.state != 'succeeded' "
                              "AND b.worker_id = 'slurm-{}-0' AND b.state = 'succeeded' "
                              "AND b.resumed_epochs >= a.checkpoint_epochs", victim, second)), 1)
      << SlurmLogs() << coord_->Log();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM events WHERE message LIKE '%duplicate result%'"), 0);

  // `avctl workers stop --slurm-job ID --now` drains the second worker and scancels its job.
  out = Avctl("workers stop --slurm-job " + second + " --now", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(WaitUntil([&] { return RunCommand("squeue -h -j " + second + " 2>/dev/null").output.empty(); }, 60))
      << RunCommand("squeue 2>&1").output;
}

}  // namespace
}  // namespace avctl
