// Process-wide malloc settings for training processes.
//
// ATen's CPU allocator takes every tensor from malloc. glibc serves blocks
// above its mmap threshold (dynamic, at most 32 MiB) with a fresh mmap and
// unmaps them on free, so a training step whose attention tensors are tens
// of MiB each faults in and zeroes gigabytes of new pages every step: in a
// full-profile ladder_av step on CPU, clear_page alone was 20 to 34% of the
// samples (perf, bench/RESULTS.md). KeepFreedMemoryForReuse turns malloc's
// mmap path and heap trimming off, so that freed blocks stay in the heap and
// the next step reuses them.
//
// For processes that run one job and exit (`avworker train`, the
// benchmarks): the heap then keeps its peak until exit. glibc only; a no-op
// elsewhere.
#pragma once

#include "common/status.h"

namespace avctl {

Status KeepFreedMemoryForReuse();

}  // namespace avctl
