#include "cli/slurm_script.h"

#include <fmt/format.h>

namespace avctl::cli {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

Status ValidateSlurmOptions(const SlurmOptions& o) {
  if (o.coordinator.rfind("tcp://", 0) != 0) {
    return Status::InvalidArgument(fmt::format("expected tcp://HOST:PORT that the compute nodes can reach, got \"{}\"",
                                               o.coordinator)).WithField("--coordinator");
  }
  if (!o.allow_loopback &&
      (o.coordinator.find("127.0.0.1") != std::string::npos || o.coordinator.find("localhost") != std::string::npos)) {
    return Status::InvalidArgument("a loopback address is not reachable from the compute nodes; give the login "
                                   "node's host name (or --allow-loopback when Slurm runs on this machine)")
        .WithField("--coordinator");
  }
  if (o.nodes < 1) return Status::InvalidArgument("must be at least 1").WithField("--nodes");
  if (o.gpus_per_node < 0 || o.gpus_per_node > 64) return Status::InvalidArgument("expected 0 to 64").WithField("--gpus-per-node");
  if (o.slots_per_gpu < 1 || o.slots_per_gpu > 64) return Status::InvalidArgument("expected 1 to 64").WithField("--slots-per-gpu");
  if (o.cpus_per_task < 1) return Status::InvalidArgument("must be at least 1").WithField("--cpus-per-task");
  if (o.signal_seconds < 0 || o.signal_seconds > 65535) {
    return Status::InvalidArgument("expected 0 to 65535 seconds").WithField("--signal-seconds");
  }
  if (!(o.stop_timeout_s >= 0 && o.stop_timeout_s <= 3600)) {
    return Status::InvalidArgument("expected 0 to 3600 seconds").WithField("--stop-timeout");
  }
  for (const auto& [name, v] : {std::pair<const char*, const std::string*>{"--partition", &o.partition},
                                {"--time", &o.time}, {"--account", &o.account}, {"--job-name", &o.job_name}}) {
    if (v->find_first_of(" \n\t'\"$`\\") != std::string::npos) {
      return Status::InvalidArgument(fmt::format("\"{}\" holds a character Slurm options do not take", *v)).WithField(name);
    }
  }
  return Status::OK();
}

std::string RenderSbatchScript(const SlurmOptions& o) {
  const bool gpu = o.gpus_per_node > 0;
  const int tasks = gpu ? o.gpus_per_node : 1;
  std::string s = "#!/bin/bash\n# Written by avctl workers slurm: one avworker daemon per GPU.\n";
  s += fmt::format("#SBATCH --job-name={}\n#SBATCH --nodes={}\n#SBATCH --ntasks-per-node={}\n", o.job_name, o.nodes,
                   tasks);
  if (gpu) s += fmt::format("#SBATCH --gpus-per-node={}\n#SBATCH --gpus-per-task=1\n", o.gpus_per_node);
  s += fmt::format("#SBATCH --cpus-per-task={}\n", o.cpus_per_task);
  if (!o.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", o.partition);
  if (!o.time.empty()) s += fmt::format("#SBATCH --time={}\n", o.time);
  if (!o.account.empty()) s += fmt::format("#SBATCH --account={}\n", o.account);
  s += fmt::format("#SBATCH --output={}/%x-%j.out\n", o.log_dir);
  // SIGTERM to every step's processes ahead of the time limit: the daemons'
  // jobs checkpoint at their next batch boundary and are requeued.
  if (o.signal_seconds > 0) s += fmt::format("#SBATCH --signal=TERM@{}\n", o.signal_seconds);
  if (o.requeue) s += "#SBATCH --requeue\n#SBATCH --open-mode=append\n";
  s += "set -euo pipefail\n";
  s += fmt::format("mkdir -p {} {}\n", ShellQuote(o.log_dir), ShellQuote(o.work_root));
  // Inside each task Slurm exposes only its own GPU, so the daemon uses cuda:0.
  // SIGTERM (scancel, --signal, preemption) reaches the daemons and their
  // jobs: the jobs checkpoint and are reported preempted, the daemons exit.
  // A requeued job keeps its id, so its daemons resend what their spools hold.
  const std::string device = gpu ? "cuda:0" : "cpu";
  std::string task = fmt::format(
      "id=slurm-${{SLURM_JOB_ID}}-${{SLURM_PROCID}}; exec {} serve --coordinator {} --id \"$id\" --work-dir {}/\"$id\" "
      "--slots {} --device {} --threads {} --stop-timeout {}",
      ShellQuote(o.avworker), ShellQuote(o.coordinator), ShellQuote(o.work_root), gpu ? o.slots_per_gpu : 1, device,
      std::max(1, o.cpus_per_task / (gpu ? o.slots_per_gpu : 1)), o.stop_timeout_s);
  if (!o.checkpoint_dir.empty()) task += " --checkpoint-dir " + ShellQuote(o.checkpoint_dir);
  s += fmt::format("srun --kill-on-bad-exit=0 --output={}/%x-%j-task%t.log bash -c {}\n", ShellQuote(o.log_dir),
                   ShellQuote(task));
  return s;
}

}  // namespace avctl::cli
