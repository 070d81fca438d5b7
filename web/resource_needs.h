// What the measured jobs of a sweep needed, per variant: throughput, peak
// host and device memory, whether the runs were deterministic, and the
// `resources.gpu_memory_mb` to declare so that several jobs can be packed on
// one GPU without running out of memory. Pure: computed from ReportData.
#pragma once

#include <string>
#include <vector>

#include "web/report_data.h"

namespace avctl {

// The CUDA context of a job's process (cuBLAS/cuDNN handles, kernels loaded
// lazily) is memory the caching allocator does not count. Our stated
// allowance, not a measurement of this code: PyTorch 2.x contexts on
// H100-class GPUs are commonly 0.4-0.6 GiB with lazy module loading.
inline constexpr double kCudaContextMiB = 512;
// Headroom over the largest peak seen (lengths vary between partitions).
inline constexpr double kGpuMemoryHeadroom = 1.10;

struct VariantResources {
  std::string variant;
  int measured = 0;                  // runs whose result reports resources
  std::vector<std::string> devices;  // as the results name them ("cpu", "cuda:0")
  double median_clips_per_s = 0;     // training clips/s, median over runs
  double median_data_wait_share = -1;  // < 0: not reported
  double max_peak_rss_mib = 0;
  double max_peak_device_mib = -1;   // < 0: no GPU run measured
  int gpu_runs = 0;
  bool all_deterministic = true;
  int suggested_gpu_memory_mb = 0;   // 0: no GPU run measured
};

std::vector<VariantResources> SummarizeResources(const ReportData& data);

// (peak + context) x headroom, rounded up to 256 MiB.
int SuggestedGpuMemoryMb(double peak_device_mib);

}  // namespace avctl
