#include "features/deltas.h"

#include <cmath>

namespace avctl {

namespace {

// Row index of frame t + offset with the ends repeated, as getMatrix pads.
inline size_t Clamp(size_t t, long offset, size_t frames) {
  const long r = static_cast<long>(t) + offset;
  if (r < 0) return 0;
  if (r >= static_cast<long>(frames)) return frames - 1;
  return static_cast<size_t>(r);
}

// 2 * sum_{i=1..w} i^2, the regression denominator.
inline double Norm(int w) {
  double n = 0;
  for (int i = 1; i <= w; ++i) n += static_cast<double>(i) * i;
  return 2 * n;
}

// cDeltaRegression::isNoValue with onlyInSegments = 1.
inline bool NoValue(double v) { return v == 0.0 || std::isnan(v); }

}  // namespace

void ComputeDeltas(const float* x, size_t frames, size_t dims, size_t x_stride, float* out, size_t out_stride,
                   int window) {
  if (frames == 0 || dims == 0) return;
  if (window <= 0) {  // simple difference
    for (size_t t = 0; t < frames; ++t) {
      const float* cur = x + t * x_stride;
      const float* prev = x + (t == 0 ? 0 : t - 1) * x_stride;
      float* o = out + t * out_stride;
      for (size_t d = 0; d < dims; ++d) o[d] = static_cast<float>(static_cast<double>(cur[d]) - prev[d]);
    }
    return;
  }
  const size_t w = static_cast<size_t>(window);
  const double norm = Norm(window);
  for (size_t t = 0; t < frames; ++t) {
    float* o = out + t * out_stride;
    if (t >= w && t + w < frames) {  // interior: the whole window is inside
      for (size_t d = 0; d < dims; ++d) {
        double acc = 0;
        for (size_t i = 1; i <= w; ++i) {
          acc += static_cast<double>(i) *
                 (static_cast<double>(x[(t + i) * x_stride + d]) - static_cast<double>(x[(t - i) * x_stride + d]));
        }
        o[d] = static_cast<float>(acc / norm);
      }
    } else {
      for (size_t d = 0; d < dims; ++d) {
        double acc = 0;
        for (int i = 1; i <= window; ++i) {
          const double ahead = x[Clamp(t, i, frames) * x_stride + d];
          const double behind = x[Clamp(t, -i, frames) * x_stride + d];
          acc += i * (ahead - behind);
        }
        o[d] = static_cast<float>(acc / norm);
      }
    }
  }
}

void ComputeSegmentDeltas(const float* x, size_t frames, size_t dims, size_t x_stride, float* out,
                          size_t out_stride, int window) {
  if (frames == 0 || dims == 0) return;
  if (window <= 0) {  // simple difference, 0 where either value is missing
    for (size_t t = 0; t < frames; ++t) {
      const float* cur = x + t * x_stride;
      const float* prev = x + (t == 0 ? 0 : t - 1) * x_stride;
      float* o = out + t * out_stride;
      for (size_t d = 0; d < dims; ++d) {
        const double a = cur[d], b = prev[d];
        o[d] = NoValue(a) || NoValue(b) ? 0.0f : static_cast<float>(a - b);
      }
    }
    return;
  }
  double norm = Norm(window);  // openSMILE's running denominator: grows, never reset
  for (size_t t = 0; t < frames; ++t) {
    float* o = out + t * out_stride;
    for (size_t d = 0; d < dims; ++d) {
      double num = 0;
      for (int i = 1; i <= window; ++i) {
        const double ahead = x[Clamp(t, i, frames) * x_stride + d];
        const double behind = x[Clamp(t, -i, frames) * x_stride + d];
        if (NoValue(ahead) || NoValue(behind)) continue;
        num += i * (ahead - behind);
        norm += static_cast<double>(i) * i;
      }
      o[d] = static_cast<float>(num / norm);  // norm >= 2 * sum i^2 > 0
    }
  }
}

}  // namespace avctl
