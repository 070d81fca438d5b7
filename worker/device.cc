#include "worker/device.h"

#include <sys/resource.h>

#include <cstdlib>

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <fmt/format.h>
#include <torch/version.h>

#if AVCTL_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace avctl {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define AVCTL_AUTOCAST_BY_DEVICE 1  // PyTorch 2.4 renamed the autocast API
#endif

Result<OpenedDevice> OpenDevice(const std::string& name, bool deterministic) {
  OpenedDevice d;
  if (name == "cpu") return d;
  if (deterministic) {
    // cuBLAS reads this when its first handle is made: before any CUDA work.
    // An explicit setting in the environment wins.
    ::setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
  }
  if (!torch::cuda::is_available()) {
    return Status::FailedPrecondition(fmt::format("device {} asked for, but this libtorch sees no CUDA device", name))
        .WithField("device");
  }
  try {
    d.device = torch::Device(name);
  } catch (const c10::Error& e) {
    return Status::InvalidArgument(fmt::format("device '{}': {}", name, e.what_without_backtrace())).WithField("device");
  }
  if (!d.device.is_cuda()) {
    return Status::InvalidArgument(fmt::format("device '{}': expected \"cpu\" or \"cuda:N\"", name)).WithField("device");
  }
  if (!d.device.has_index()) d.device = torch::Device(torch::kCUDA, 0);
  d.cuda = true;
  d.deterministic = deterministic;
  at::globalContext().setDeterministicAlgorithms(deterministic, /*warn_only=*/false);
  at::globalContext().setDeterministicCuDNN(deterministic);
  at::globalContext().setBenchmarkCuDNN(false);
  return d;
}

Bf16Autocast::Bf16Autocast(const torch::Device& device, bool on) : on_(on), cuda_(device.is_cuda()) {
  if (!on_) return;
#ifdef AVCTL_AUTOCAST_BY_DEVICE
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_enabled(type, true);
  at::autocast::set_autocast_dtype(type, at::kBFloat16);
#else
  if (cuda_) {
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  } else {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
#endif
}

Bf16Autocast::~Bf16Autocast() {
  if (!on_) return;
#ifdef AVCTL_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_enabled(cuda_ ? at::kCUDA : at::kCPU, false);
#else
  if (cuda_) at::autocast::set_enabled(false);
  else at::autocast::set_cpu_enabled(false);
#endif
  at::autocast::clear_cache();
}

void SynchronizeDevice(const OpenedDevice& d) {
  if (d.cuda) torch::cuda::synchronize(d.device.index());
}

double PeakDeviceMemoryMiB(const OpenedDevice& d) {
#if AVCTL_CUDA
  if (d.cuda) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(d.device.index());
    return static_cast<double>(stats.reserved_bytes[0].peak) / (1024.0 * 1024.0);  // [0]: all pools
  }
#else
  (void)d;
#endif
  return -1;
}

double PeakRssMiB() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

}  // namespace avctl
