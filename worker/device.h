// Everything the trainer needs to know about where it runs: opening the
// device (and making CUDA deterministic when asked), autocast scopes,
// synchronisation for benchmarks and the peak memory the run took.
// CPU runs are deterministic at a fixed thread count and CPU kernel
// capability (CpuKernelCapability) by construction; on
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
// Whether this build compiled its CUDA code (AVCTL_CUDA: a CUDA libtorch).
bool WorkerCudaCode();

// The vector instruction set ATen's CPU kernels dispatch to on this machine
// ("default", "avx2", "avx512", "vsx", "zvector"; ATEN_CPU_CAPABILITY can
// lower it). Kernels of different widths sum in different orders, so CPU
// runs are bit-identical only between machines that report the same value:
// a ladder_av job of the demo ends at macro F1 0.3639, 0.3508 and 0.3405
// under default, avx2 and avx512 on one machine (bench/RESULTS.md).
std::string CpuKernelCapability();

// The kernel set OpenBLAS chose for this CPU ("SkylakeX", "Haswell",
// "Cooperlake"; OPENBLAS_CORETYPE overrides it), read from the loaded
// library; "" when the BLAS in use is not OpenBLAS. Its kernels differ per
// core type too: the same job ends at 0.3508 (SkylakeX), 0.3537 (Haswell)
// and 0.3390 (Cooperlake) on one machine.
std::string BlasCoreName();

// Peak resident set of this process, MiB.
double PeakRssMiB();

}  // namespace avctl
