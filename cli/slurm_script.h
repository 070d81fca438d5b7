// The sbatch script behind `avctl workers slurm` (pure): one avworker daemon
// per GPU through srun, each bound to its GPU by Slurm (CUDA_VISIBLE_DEVICES),
// worker ids from SLURM_JOB_ID and SLURM_PROCID, one log per task.
#pragma once

#include <string>

#include "common/status.h"

namespace avctl::cli {

struct SlurmOptions {
  std::string coordinator;          // the coordinator's worker endpoint (tcp://HOST:5555)
  int nodes = 1;
  int gpus_per_node = 1;            // 0: CPU workers, one per node
  int slots_per_gpu = 1;            // jobs per GPU at once
  int cpus_per_task = 8;
  std::string partition, time = "24:00:00", account;
  std::string job_name = "avctl-workers";
  std::string avworker = "avworker";            // path of the binary on the compute nodes
  std::string work_root = "avctl-workers";      // spools: WORK_ROOT/<worker id>
  std::string log_dir = "avctl-slurm-logs";
  bool allow_loopback = false;                  // the Slurm node is this machine (tests, a workstation)
  // Preemption: Slurm sends SIGTERM this long before the time limit, so that
  // running jobs checkpoint and go back to the queue (0: only at the limit).
  int signal_seconds = 120;
  bool requeue = false;             // --requeue: Slurm may requeue the job after preemption or a node failure
  std::string checkpoint_dir;       // the daemons' --checkpoint-dir (a shared file system); empty: the sweep's
  double stop_timeout_s = 25;       // the daemons' --stop-timeout: within Slurm's KillWait (30 s by default)
};

Status ValidateSlurmOptions(const SlurmOptions& o);
// Single-quotes a value for bash.
std::string ShellQuote(const std::string& s);
std::string RenderSbatchScript(const SlurmOptions& o);

}  // namespace avctl::cli
