// Delta regression coefficients as openSMILE's cDeltaRegression computes them
// (ComParE_2016 uses the default deltawin W = 2):
//   d_t = sum_{i=1..W} i * (x_{t+i} - x_{t-i}) / (2 * sum_{i=1..W} i^2)
//
// Frames beyond the ends. cDeltaRegression is a cWindowProcessor: it reads
// its window through cDataReader::getNextMatrix starting at index -W
// (setupSequentialMatrixReading(..., -pre)), and cDataMemoryLevel::getMatrix
// fills indices before 0 with the first frame (zeros only for DMEM_PAD_ZERO,
// which this reader does not ask for) and, once the input has ended, indices
// past the last frame with the last frame. So x_{-k} = x_0 and
// x_{N-1+k} = x_{N-1}, which is what these functions do. Sources read:
// audeering/opensmile src/dspcore/deltaRegression.cpp,
// src/core/windowProcessor.cpp, src/core/dataReader.cpp,
// src/core/dataMemoryLevel.cpp (getMatrix, validateIdxRangeR).
// One known difference: for inputs of fewer than 2W frames (3 or fewer at
// W = 2), a window that reaches both before the start and past the end takes
// getMatrix's "before the start" branch, which reads the never-written
// buffer slots past the end (zeros in a fresh level) instead of repeating the
// last frame. That is a buffer artefact, not a padding rule; here the last
// frame is repeated for every input length.
//
// ComParE_2016 computes the deltas of its six voicing LLDs (F0final_sma,
// voicingFinalUnclipped_sma, jitterLocal_sma, jitterDDP_sma,
// shimmerLocal_sma, logHNR_sma: the is13_deNz instance in
// config/compare16/ComParE_2016_core.lld.conf.inc) with onlyInSegments = 1.
// ComputeSegmentDeltas reproduces that mode, including its normaliser: the
// code adds i^2 to the component's member `norm` for every pair used and
// never resets it, so the denominator grows over the whole input and is
// shared by all of the level's columns (processed frame by frame, columns in
// level order, with cDeltaRegression's default blocksize of 1).
//
// Both functions are allocation-free and compute in double.
#pragma once

#include <cstddef>

namespace avctl {

// x: [frames x dims] with row stride x_stride (in floats); out: [frames x
// dims] with row stride out_stride. out may interleave with x (e.g. the
// delta half of the same rows) but must not overlap x's first `dims`
// columns. window >= 1 is the regression half-width W; window == 0 is
// openSMILE's simple difference x_t - x_{t-1} (x_{-1} = x_0); a negative
// window is treated as 0, as openSMILE does.
void ComputeDeltas(const float* x, size_t frames, size_t dims, size_t x_stride, float* out, size_t out_stride,
                   int window = 2);

// openSMILE's onlyInSegments = 1 mode: a pair (x_{t+i}, x_{t-i}) contributes
// only when neither value is 0 or NaN; a frame with no such pair gets 0. The
// denominator starts at 2 * sum i^2 and grows by i^2 for every pair used, in
// order t = 0..frames-1, column 0..dims-1 within a frame (see above). Pass
// the columns in the order openSMILE's level holds them.
void ComputeSegmentDeltas(const float* x, size_t frames, size_t dims, size_t x_stride, float* out,
                          size_t out_stride, int window = 2);

}  // namespace avctl
