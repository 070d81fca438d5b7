// Delta regression coefficients as openSMILE's cDeltaRegression computes them
// (ComParE_2016: deltawin W = 2):
//   d_t = sum_{i=1..W} i * (x_{t+i} - x_{t-i}) / (2 * sum_{i=1..W} i^2)
// Frames beyond either end take the value of the first / last frame: that is
// what openSMILE does, since cDeltaRegression reads its window through
// cDataMemoryLevel::getMatrix, which fills indices before the start with the
// first frame and beyond the end with the last unless DMEM_PAD_ZERO is asked
// for (openSMILE 2.x/3.x src/dspcore/deltaRegression.cpp, src/core/dataMemory.cpp).
#pragma once

#include <cstddef>

namespace avctl {

// x: [frames x dims] with row stride x_stride; out: [frames x dims] with row
// stride out_stride. out may share rows with x but not overlap its columns.
void ComputeDeltas(const float* x, size_t frames, size_t dims, size_t x_stride, float* out, size_t out_stride,
                   int window = 2);

}  // namespace avctl
