// Everything the trainer needs to know about where it runs: opening the
// device (and making CUDA deterministic when asked), autocast scopes,
// synchronisation for benchmarks and the peak memory the run took.
// CPU runs are deterministic at a fixed thread count by construction; on
// CUDA, determinism needs ATen's deterministic algorithms, cuDNN without
// benchmarking and cuBLAS with a fixed workspace (CUBLAS_WORKSPACE_CONFIG).
#pragma once

#include <string>

#include <torch/torch.h>

#include "common/status.h"

namespace avctl {

struct OpenedDevice {
  torch::Device device{torch::kCPU};
  bool cuda = false;
  // Whether reruns of the same job on the same hardware and software are
  // bit-identical: always on CPU; on CUDA when `deterministic` was asked.
  bool deterministic = true;
};

// "cpu" or "cuda[:N]". FailedPrecondition (field "device") when CUDA is
// asked for and this libtorch sees none.
Result<OpenedDevice> OpenDevice(const std::string& name, bool deterministic);

// Autocast to bfloat16 for the scope (CUDA or CPU autocast, following the
// device); does nothing when off. Not reentrant across devices.
class Bf16Autocast {
 public:
  Bf16Autocast(const torch::Device& device, bool on);
  ~Bf16Autocast();
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool on_;
  bool cuda_;
};

// Waits for the device's queued work (no-op on CPU).
void SynchronizeDevice(const OpenedDevice& d);

// Peak memory the CUDA caching allocator reserved on the device since the
// process started, in MiB; negative where not measured (CPU, or a libtorch
// built without CUDA).
double PeakDeviceMemoryMiB(const OpenedDevice& d);

// Peak resident set of this process, MiB.
double PeakRssMiB();

}  // namespace avctl
