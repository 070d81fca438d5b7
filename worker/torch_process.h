// The process-wide torch state a training job runs under, set once by the
// caller before TrainJob (avworker train's main, a benchmark, a test), as
// the PyTorch C++ examples set theirs in main(): torch's intra-op thread
// count and, on CUDA, ATen's deterministic-algorithm and cuDNN flags and
// CUBLAS_WORKSPACE_CONFIG (worker/device.h OpenDevice). TrainJob takes the
// TorchProcess it returns and refuses a job asking for other threads, device
// or determinism, so a job cannot run under settings it did not ask for.
// One job at a time per process: a second setup overrides the first.
#pragma once

#include <string>

#include "common/status.h"
#include "sweeps/job_config.h"
#include "worker/device.h"

namespace avctl {

struct TorchProcess {
  OpenedDevice device;
  std::string device_name;   // as asked ("cpu", "cuda", "cuda:1")
  bool deterministic = true; // as asked (train.deterministic)
  int threads = 0;           // resolved (0 asked: every core)
};

// Sets torch's threads (ResolveThreads) and opens the device.
Result<TorchProcess> SetUpTorchProcess(const std::string& device, bool deterministic, int threads);
// For the job's own settings (threads, device, train.deterministic).
Result<TorchProcess> SetUpTorchProcess(const JobConfig& job);

// OK when `process` is what `job` asks for and torch's thread count is still
// the one it set; FailedPrecondition naming the difference otherwise.
Status CheckTorchProcess(const TorchProcess& process, const JobConfig& job);

}  // namespace avctl
