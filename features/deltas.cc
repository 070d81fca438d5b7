#include "features/deltas.h"

#include <algorithm>

namespace avctl {

void ComputeDeltas(const float* x, size_t frames, size_t dims, size_t x_stride, float* out, size_t out_stride,
                   int window) {
  if (frames == 0 || window <= 0) return;
  double norm = 0;
  for (int i = 1; i <= window; ++i) norm += static_cast<double>(i) * i;
  norm *= 2;
  const long last = static_cast<long>(frames) - 1;
  for (long t = 0; t <= last; ++t) {
    for (size_t d = 0; d < dims; ++d) {
      double acc = 0;
      for (int i = 1; i <= window; ++i) {
        long ahead = std::min(t + i, last), behind = std::max(t - i, 0L);
        acc += i * (static_cast<double>(x[ahead * x_stride + d]) - x[behind * x_stride + d]);
      }
      out[t * out_stride + d] = static_cast<float>(acc / norm);
    }
  }
}

}  // namespace avctl
