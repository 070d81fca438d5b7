// What a command job's program is given (docs/JOBS.md, "The contract"): its
// config file's content, its environment, and the GPU it may see. Pure: the
// runner (worker/command_runner.h) writes and starts what this builds.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"
#include "sweeps/command_job.h"

namespace avctl {

struct ProgramSetup {
  const CommandJob* job = nullptr;
  int64_t attempt = 0;
  std::string token;            // AVCTL_ATTEMPT_TOKEN: marks every process of the attempt
  std::string config_path, result_path, progress_path, checkpoint_dir, output_dir;
  std::string dataset_dir;      // the resolved store; empty: the job has no dataset
  Json dataset_spec;            // as the sweep gave it (null: none)
  std::string device = "cpu";   // the worker's: "cpu", "cuda" or "cuda:N"
  int threads = 1;              // the slot's thread budget
};

// CUDA_VISIBLE_DEVICES for a job on `device`: "" on a CPU worker (the job
// sees no GPU), the worker's GPU otherwise, mapped through the list the
// worker itself was given (`inherited`, as under Slurm: cuda:1 of "4,5" is
// "5"). An index beyond that list is an error naming both.
Result<std::string> VisibleDevices(const std::string& device, const std::string* inherited);

// The variables the contract sets (AVCTL_*, CUDA_VISIBLE_DEVICES, thread
// counts, PYTHONUNBUFFERED) with the job's own env on top.
Result<std::map<std::string, std::string>> ProgramVariables(const ProgramSetup& setup,
                                                            const std::string* inherited_visible_devices);

// The whole environment: `inherited` ("NAME=value", the worker's own) without
// the names the contract sets, then `variables`.
std::vector<std::string> ProgramEnvironment(const std::vector<std::string>& inherited,
                                            const std::map<std::string, std::string>& variables);

// The config file (AVCTL_CONFIG).
Json ProgramConfig(const ProgramSetup& setup);

// Names whose values are secrets (…_KEY, …_TOKEN, …_SECRET, …PASSWORD…,
// credentials): their values never go into the record.
bool IsSecretName(const std::string& name);
Json RedactedVariables(const std::map<std::string, std::string>& variables);

}  // namespace avctl
