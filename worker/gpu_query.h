// What a worker daemon announces of its GPU, from nvidia-smi.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace avctl {

struct GpuInfo {
  std::string name;
  int64_t total_mb = 0, free_mb = 0;
};

// One line of `nvidia-smi --query-gpu=name,memory.total,memory.free
// --format=csv,noheader,nounits` ("NVIDIA H100 80GB HBM3, 81559, 80620").
Result<GpuInfo> ParseNvidiaSmiGpu(const std::string& line);

// Name, total and free memory of CUDA device `index` from nvidia-smi; an
// empty name and zeros when it is not available.
GpuInfo QueryGpu(int index);

}  // namespace avctl
