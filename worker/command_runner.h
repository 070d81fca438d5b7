// `command` jobs: a researcher's own program run under the worker-program
// contract (docs/JOBS.md). Each attempt gets a config file, a result path,
// a progress file, a checkpoint folder kept across attempts and an output
// folder kept after the job; the program runs in its own process group
// with stdin from /dev/null and its stdout and stderr drained into capped
// log files. Every process of the attempt carries a marker in its
// environment, so that cancel, preemption, a timeout or the end of the
// program stop all of them (SIGTERM, then SIGKILL after the stop timeout),
// setsid or not. What the end means is worker/program_exit.h's.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "sweeps/command_job.h"
#include "worker/job_runners.h"
#include "worker/output_capture.h"
#include <future>
#include <memory>

#include "common/wakeup.h"
#include "worker/background_worker.h"
#include "worker/interpreter_info.h"
#include "worker/store_registry.h"

namespace avctl {

// In an attempt's spool folder: the program's config file (docs/JOBS.md),
// whose checkpoint_dir is the command job's checkpoint folder, removed whole
// when the coordinator has stored the job's result (the program's files are
// its own format, so nothing in it is kept).
inline constexpr const char* kProgramConfigFile = "config.json";
// Where spools of daemons before 2026-12-06 named that folder.
inline constexpr const char* kLegacyOwnedCheckpointDirFile = "job_checkpoint_dir";

// The checkpoint folder of the command job whose attempt spool is `dir`;
// "" when `dir` is not a command job's (or its config cannot be read).
std::string OwnedCheckpointDir(const std::string& dir);


struct CommandRunnerOptions {
  std::string spool;                    // attempts/<id>/ (ids are unique across runners)
  std::string worker_id;
  std::string device = "cpu";
  int threads_per_job = 1;
  std::string checkpoint_root;          // the worker's --checkpoint-dir (wins over the job's)
  std::string default_checkpoint_root;  // WORK_DIR/checkpoints
  std::string output_root;              // AVCTL_OUTPUT_DIR is output_root/<job folder>
  std::chrono::milliseconds stop_timeout{25000};
  CaptureLimits capture;
  std::vector<std::string> environment;  // the worker's own, "NAME=value" (programs inherit it)
  std::optional<std::string> visible_devices;  // the worker's own CUDA_VISIBLE_DEVICES, if set
  std::string hostname;
  std::string gpu_name;  // the worker's GPU (nvidia-smi), for provenance; "" on CPU
};

class CommandRunner : public JobRunner {
 public:
  CommandRunner(CommandRunnerOptions options, StoreRegistry* stores, Logger* log);
  ~CommandRunner() override;
  std::optional<AttemptReport> Start(const JobMessage& job) override;
  std::vector<AttemptReport> Poll(const std::function<void(Json)>& progress) override;
  // SIGTERM to every process of the attempt, SIGKILL after the stop timeout; forgotten once gone.
  bool Cancel(int64_t attempt) override;
  std::vector<int64_t> Holding() const override;
  // The next timeout or stop deadline, or the end of an ended program's
  // output drain; output and worked-out provenance wake PollFds() instead.
  std::optional<Clock::time_point> NextDue() const override;
  // The running programs' output pipes and the provenance thread's wakeup.
  std::vector<int> PollFds() const override;
  // Preemption: every running program gets SIGTERM (it should checkpoint
  // and exit 3) and SIGKILL after `grace`; each is reported preempted.
  void Preempt(std::chrono::milliseconds grace);
  void SetDraining() { draining_ = true; }
  void KillAll();
  // The job roots still to be reaped (for the daemon's orphan reaping).
  std::vector<pid_t> ChildPids() const;
  std::string AttemptDir(int64_t attempt) const;

 private:
  enum class Phase { kWaitingForStore, kRunning, kFinishing };
  struct Attempt;

  std::optional<AttemptReport> Spawn(int64_t id, Attempt& a, const std::string& store_dir);
  void Launch(std::vector<AttemptReport>* out);
  void Stop(Attempt& a, std::chrono::milliseconds grace);
  AttemptReport Finish(int64_t id, Attempt& a);

  CommandRunnerOptions opt_;
  StoreRegistry* stores_;
  Logger* log_;
  bool draining_ = false;
  // Made readable by the provenance thread when an attempt's code is worked out.
  std::shared_ptr<Wakeup> wake_;
  // The code each attempt runs (script hash, git state, interpreter
  // version): git in a large repository can take seconds, which the
  // daemon's loop must not wait.
  std::unique_ptr<BackgroundWorker<Json>> code_worker_;
  std::map<int64_t, std::unique_ptr<Attempt>> attempts_;
  // Versions asked once per interpreter, from the attempts' provenance threads.
  std::shared_ptr<InterpreterInfo> interpreters_ = std::make_shared<InterpreterInfo>();
};

}  // namespace avctl
