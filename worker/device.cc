#include "worker/device.h"

#include <dlfcn.h>
#include <sys/resource.h>

#include <cctype>
#include <cstdlib>

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/Version.h>
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

bool WorkerCudaCode() {
#if AVCTL_CUDA
  return true;
#else
  return false;
#endif
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

std::string CpuKernelCapability() {
  // at::native::get_cpu_capability is not exported by every libtorch
  // (Debian's 1.13); show_config, what torch.__config__.show() prints, is,
  // with the line "CPU capability usage: AVX2".
  const std::string config = at::show_config();
  const std::string key = "CPU capability usage:";
  const size_t at = config.find(key);
  if (at == std::string::npos) return "unknown";
  std::string value;
  for (size_t i = at + key.size(); i < config.size() && config[i] != '\n'; ++i) {
    if (config[i] != ' ' || !value.empty()) value += static_cast<char>(std::tolower(static_cast<unsigned char>(config[i])));
  }
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value == "no avx" || value.empty() ? "default" : value;
}

std::string BlasCoreName() {
  using CoreName = char* (*)();
  // dlsym: libtorch reaches OpenBLAS through libblas.so.3 (Debian's
  // alternatives), so the symbol is there only when OpenBLAS is the BLAS.
  auto fn = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (fn == nullptr) return "";
  const char* name = fn();
  return name == nullptr ? "" : std::string(name);
}

}  // namespace avctl
