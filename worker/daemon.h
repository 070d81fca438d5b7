// The worker daemon (`avworker serve`): connects a DEALER socket to the
// coordinator, announces itself, runs each job it is given in a child
// process (`avworker train`, its own process group, killed with the daemon),
// streams epoch progress, and sends the result, which stays on disk in the
// spool until the coordinator acknowledges it, so it survives a coordinator
// outage and a daemon restart. Heartbeats both ways; a silent coordinator
// means reconnecting with exponential backoff (zguide's Paranoid Pirate).
// SIGTERM/SIGINT drain: running jobs finish, no new ones are taken, then
// the daemon says bye and exits 0. Torch-free: training happens in children.
//
// Its rooms: this file is the application (spool, signals, drain);
// coordinator_link.h is the session with the coordinator (hello, heartbeats,
// reconnection, reports kept until acked); job_runners.h runs attempts per
// job kind (train, sleep, noop); gpu_query.h reads nvidia-smi.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>
#include <string>

#include "common/json_util.h"
#include "common/log.h"
#include "common/status.h"
#include "net/curve.h"

namespace avctl {

struct WorkerDaemonOptions {
  std::string coordinator = "tcp://127.0.0.1:5555";
  std::string worker_id;          // stable across restarts; required
  int slots = 1;                  // jobs at once
  std::string device = "cpu";     // "cpu" or "cuda:N", handed to every job
  std::string gpu_name;
  int64_t gpu_memory_mb = 0;  // total
  int64_t gpu_free_mb = 0;    // free when the daemon started: what other processes left for its jobs
  // CURVE (empty: plain text, for a loopback coordinator): the coordinator's
  // public key and this worker's key pair, whose public key the coordinator's
  // allowlist must hold.
  std::string curve_server_public;
  CurveKeyPair curve_keys;
  std::string work_dir;           // spool (attempts/<id>/) and, by default, the synthetic store cache
  std::string store_cache;        // default: work_dir/stores
  std::string trainer_exe;        // the avworker binary that runs `train` in children
  std::string checkpoint_dir;     // --checkpoint-dir: every job's checkpoint folder goes here (wins over the
                                  // sweep's checkpoint_dir); empty: the sweep's, else WORK_DIR/checkpoints
  double stop_timeout_s = 25;     // SIGTERM: what running jobs get to checkpoint before they are killed
  int threads_per_job = 1;
  std::string mode = "train";     // "train", or "noop": answer every job at once (benchmarks)
  int heartbeat_ms = 1000;        // until the coordinator's welcome says otherwise
  int liveness = 3;
  int max_backoff_ms = 32000;
  Json labels = Json::object();   // free-form, e.g. {"slurm_job_id": "123"}
  // What command jobs' programs inherit (docs/JOBS.md): the daemon's own
  // environment ("NAME=value"; empty: the process's) and the GPUs it was
  // given (CUDA_VISIBLE_DEVICES, as under Slurm; unset: none given).
  std::vector<std::string> environment;
  std::optional<std::string> visible_devices;
};

class WorkerDaemon {
 public:
  WorkerDaemon(WorkerDaemonOptions options, Logger* log);
  ~WorkerDaemon();
  WorkerDaemon(const WorkerDaemon&) = delete;
  WorkerDaemon& operator=(const WorkerDaemon&) = delete;

  // Serves until drained (signal or the coordinator's drain). Refusal by the
  // coordinator (protocol version) is an error.
  Status Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace avctl
