// How a worker daemon runs attempts, one implementation per job kind behind
// one interface: `train` in an `avworker train` child process (its store
// prepared once per daemon), `sleep` on a timer (benchmarks of the
// scheduling overhead), and `noop` (`avworker serve --noop`: every job
// answered at once, for dispatch benchmarks). Each runner keeps one state
// per attempt it holds; what an attempt ends with comes back as a report
// for the coordinator link. No sockets here.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/log.h"
#include "common/protocol.h"
#include "worker/store_registry.h"

namespace avctl {

// One line of an attempt's progress file (written by `avworker train
// --progress`): the object with its "epoch", or an error naming `where` and
// saying what is wrong with it (pure).
Result<Json> ReadProgressLine(const std::string& line, const std::string& where);

// Forwards the complete lines appended to an attempt's progress file since
// `*offset` (each with its attempt_id) and moves `*offset` past them; a line
// that does not parse is logged and counted in `*bad_lines`, not forwarded.
void ForwardProgressFile(const std::string& path, int64_t attempt, std::streamoff* offset, int* bad_lines,
                         Logger* log, const std::function<void(Json)>& progress);

// In an attempt's spool folder: the path of its job's checkpoint folder,
// removed when the coordinator acknowledges the attempt's result as stored.
inline constexpr const char* kCheckpointDirFile = "checkpoint_dir";

// What an attempt ended with: a result or a failure message body (with its
// attempt_id). `spooled`: the attempt has a spool directory (a failure is
// then also written there, so that it survives a daemon restart).
struct AttemptReport {
  int64_t attempt_id = 0;
  MsgType type = MsgType::kResult;
  Json body;
  bool spooled = false;
};
// `out_of_memory`: the device ran out of memory (the coordinator retries the job once on another worker).
AttemptReport FailureReport(int64_t attempt, FailureKind kind, const std::string& reason, bool spooled,
                            bool out_of_memory = false);

class JobRunner {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~JobRunner() = default;
  // Takes an attempt. A report when it ended at once or cannot start.
  virtual std::optional<AttemptReport> Start(const JobMessage& job) = 0;
  // The reports of attempts that ended since the last call; epoch progress
  // lines (with attempt_id) go to `progress`.
  virtual std::vector<AttemptReport> Poll(const std::function<void(Json)>& progress) = 0;
  // Kills or forgets the attempt; false if this runner does not hold it.
  virtual bool Cancel(int64_t attempt) = 0;
  // The attempts this runner holds that are still to report (for hello.running).
  virtual std::vector<int64_t> Holding() const = 0;
  // When Poll next has something to do, if it waits on a clock.
  virtual std::optional<Clock::time_point> NextDue() const { return std::nullopt; }
  // Descriptors whose readability means Poll has something to do (a job's
  // output, a thread of the runner that finished), for the loop's poll.
  virtual std::vector<int> PollFds() const { return {}; }
};

struct TrainRunnerOptions {
  std::string spool;          // attempts/<id>/ directories live here
  std::string trainer_exe;    // the avworker binary that runs `train`
  std::string device = "cpu";
  int threads_per_job = 1;
  // Where each job's checkpoint folder goes: the worker's --checkpoint-dir
  // (wins), else the job's checkpoint_dir (the sweep's), else the default
  // (the worker's own WORK_DIR/checkpoints: only a retry here resumes).
  std::string checkpoint_root;
  std::string default_checkpoint_root;
};

// A job's checkpoint folder name under a root: its key made one safe path
// component, with a hash of the key so that keys differing only in the
// replaced characters stay apart.
std::string CheckpointFolderName(const std::string& job_key);

// `train`: writes job.json and dataset.json into the attempt's directory,
// waits for the store (StoreRegistry), spawns `avworker train`, forwards
// its progress lines, and reads its result.json when it exits.
class TrainRunner : public JobRunner {
 public:
  TrainRunner(TrainRunnerOptions options, StoreRegistry* stores, Logger* log);
  std::optional<AttemptReport> Start(const JobMessage& job) override;
  std::vector<AttemptReport> Poll(const std::function<void(Json)>& progress) override;
  bool Cancel(int64_t attempt) override;
  std::vector<int64_t> Holding() const override;
  // While draining, a job killed by SIGTERM/SIGKILL is the worker going
  // away (scancel signals the whole step), not a crash of the job.
  void SetDraining() { draining_ = true; }
  // Preemption (SIGTERM to the daemon): every running job is asked to stop
  // at its next batch boundary with a checkpoint (SIGTERM to its process),
  // and killed if it has not exited after `grace`; each is reported
  // preempted. Attempts still waiting for their store are reported
  // preempted at once.
  void Preempt(std::chrono::milliseconds grace);
  // The folder holding an attempt's job checkpoints (for tests and logs).
  std::string CheckpointDir(int64_t attempt) const;
  // Kills every child (the daemon is leaving on an error).
  void KillAll();
  // The `avworker train` children still to be reaped.
  std::vector<pid_t> ChildPids() const;
  std::string AttemptDir(int64_t attempt) const;

 private:
  enum class Phase { kWaitingForStore, kRunning, kCancelled };
  struct Attempt {
    Phase phase = Phase::kWaitingForStore;
    std::string dir, job_key, checkpoint_dir;
    std::optional<ResumeHint> resume;
    Json dataset;
    pid_t pid = -1;
    std::streamoff progress_offset = 0;
    int bad_progress_lines = 0;  // lines of progress.jsonl that did not parse (logged, not forwarded)
    bool killed = false;  // SIGKILLed after the preemption grace (sent once)
  };

  void Launch(std::vector<AttemptReport>* out);
  std::optional<AttemptReport> Spawn(int64_t attempt, Attempt& a, const std::string& store_dir);
  AttemptReport Finish(int64_t attempt, const Attempt& a, int wait_status);

  TrainRunnerOptions opt_;
  StoreRegistry* stores_;
  Logger* log_;
  bool draining_ = false;
  std::optional<Clock::time_point> kill_at_;  // preempting: when jobs still running are killed
  std::map<int64_t, Attempt> attempts_;
};

// `sleep`: reports a result with empty metrics after sleep_seconds.
class SleepRunner : public JobRunner {
 public:
  std::optional<AttemptReport> Start(const JobMessage& job) override;
  std::vector<AttemptReport> Poll(const std::function<void(Json)>& progress) override;
  bool Cancel(int64_t attempt) override { return sleeping_.erase(attempt) != 0; }
  std::vector<int64_t> Holding() const override;
  std::optional<Clock::time_point> NextDue() const override;

 private:
  struct Sleep {
    Clock::time_point started, due;
  };
  std::map<int64_t, Sleep> sleeping_;
};

// `--noop`: every attempt, whatever its kind, succeeds at once.
class NoopRunner : public JobRunner {
 public:
  std::optional<AttemptReport> Start(const JobMessage& job) override;
  std::vector<AttemptReport> Poll(const std::function<void(Json)>&) override { return {}; }
  bool Cancel(int64_t) override { return false; }
  std::vector<int64_t> Holding() const override { return {}; }
};

}  // namespace avctl
