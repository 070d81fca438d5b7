#include "features/deltas.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace avctl {
namespace {

std::vector<float> Deltas(const std::vector<float>& x, int window) {
  std::vector<float> d(x.size(), 99.0f);
  ComputeDeltas(x.data(), x.size(), 1, 1, d.data(), 1, window);
  return d;
}

void ExpectFloats(const std::vector<float>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(got[i], static_cast<float>(want[i])) << "frame " << i;
}

TEST(DeltasTest, RegressionWithRepeatedEdges) {
  // x = 0, 1, 4, 9, 16; W = 2, denominator 2 * (1 + 4) = 10.
  // t=0: 1*(x1 - x0) + 2*(x2 - x0) = 1 + 8 = 9           (x-1, x-2 are x0)
  // t=1: 1*(x2 - x0) + 2*(x3 - x0) = 4 + 18 = 22         (x-1 is x0)
  // t=2: 1*(x3 - x1) + 2*(x4 - x0) = 8 + 32 = 40
  // t=3: 1*(x4 - x2) + 2*(x4 - x1) = 12 + 30 = 42        (x5 is x4)
  // t=4: 1*(x4 - x3) + 2*(x4 - x2) = 7 + 24 = 31         (x5, x6 are x4)
  ExpectFloats(Deltas({0, 1, 4, 9, 16}, 2), {0.9, 2.2, 4.0, 4.2, 3.1});
}

TEST(DeltasTest, OneTwoAndThreeFrames) {
  ExpectFloats(Deltas({3}, 2), {0.0});
  // x = 1, 3: every window is 1 1 | . | 3 3 -> 1*(3-1) + 2*(3-1) = 6.
  ExpectFloats(Deltas({1, 3}, 2), {0.6, 0.6});
  // x = 1, 2, 4: t=0: 1*(2-1) + 2*(4-1) = 7; t=1: 1*(4-1) + 2*(4-1) = 9; t=2: 1*(4-2) + 2*(4-1) = 8.
  ExpectFloats(Deltas({1, 2, 4}, 2), {0.7, 0.9, 0.8});
  ExpectFloats(Deltas({-5}, 1), {0.0});
}

TEST(DeltasTest, ConstantInputHasZeroDeltas) {
  ExpectFloats(Deltas({7, 7, 7, 7, 7, 7}, 2), {0, 0, 0, 0, 0, 0});
}

TEST(DeltasTest, OtherWindows) {
  // W = 1: (x_{t+1} - x_{t-1}) / 2.
  ExpectFloats(Deltas({0, 1, 4, 9}, 1), {0.5, 2.0, 4.0, 2.5});
  // W = 0: openSMILE's simple difference x_t - x_{t-1}, x_{-1} = x_0.
  ExpectFloats(Deltas({0, 1, 4, 9}, 0), {0, 1, 3, 5});
  ExpectFloats(Deltas({0, 1, 4, 9}, -3), {0, 1, 3, 5});
  // W = 3, denominator 2 * (1 + 4 + 9) = 28:
  // t=0: 1*(1-0) + 2*(4-0) + 3*(9-0) = 36; t=1: 1*(4-0) + 2*(9-0) + 3*(9-0) = 49;
  // t=2: 1*(9-1) + 2*(9-0) + 3*(9-0) = 53; t=3: 1*(9-4) + 2*(9-1) + 3*(9-0) = 48.
  ExpectFloats(Deltas({0, 1, 4, 9}, 3), {36.0 / 28, 49.0 / 28, 53.0 / 28, 48.0 / 28});
}

TEST(DeltasTest, StridesAndInterleavedOutput) {
  // Rows [x0 x1 d0 d1]: the deltas go next to their LLDs, as in an LldTable.
  std::vector<float> rows = {1, 10, -1, -1,  //
                             3, 30, -1, -1,  //
                             4, 20, -1, -1};
  ComputeDeltas(rows.data(), 3, 2, 4, rows.data() + 2, 4, 2);
  // dim 0: 1 3 4 -> t=0: (3-1) + 2*(4-1) = 8; t=1: (4-1) + 2*(4-1) = 9; t=2: (4-3) + 2*(4-1) = 7.
  // dim 1: 10 30 20 -> t=0: 20 + 2*10 = 40; t=1: 10 + 2*10 = 30; t=2: -10 + 2*10 = 10.
  EXPECT_FLOAT_EQ(rows[2], 0.8f);
  EXPECT_FLOAT_EQ(rows[3], 4.0f);
  EXPECT_FLOAT_EQ(rows[6], 0.9f);
  EXPECT_FLOAT_EQ(rows[7], 3.0f);
  EXPECT_FLOAT_EQ(rows[10], 0.7f);
  EXPECT_FLOAT_EQ(rows[11], 1.0f);
  EXPECT_EQ(rows[4], 3.0f) << "inputs untouched";
  EXPECT_EQ(rows[5], 30.0f);
}

TEST(DeltasTest, ZeroFramesOrDimsWriteNothing) {
  float out = 5.0f;
  ComputeDeltas(nullptr, 0, 3, 3, &out, 3, 2);
  float x = 1.0f;
  ComputeDeltas(&x, 1, 0, 1, &out, 1, 2);
  ComputeSegmentDeltas(nullptr, 0, 3, 3, &out, 3, 2);
  EXPECT_EQ(out, 5.0f);
}

// The interior fast path and the edge path against a direct transcription of
// the formula with clamped indices, for many lengths and windows.
TEST(DeltasTest, MatchesDirectFormula) {
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 3.0f);
  for (int w = 1; w <= 4; ++w) {
    for (size_t n = 1; n <= 14; ++n) {
      const size_t dims = 3, stride = 5;
      std::vector<float> x(n * stride);
      for (float& v : x) v = g(rng);
      std::vector<float> out(n * dims);
      ComputeDeltas(x.data(), n, dims, stride, out.data(), dims, w);
      for (size_t t = 0; t < n; ++t) {
        for (size_t d = 0; d < dims; ++d) {
          double num = 0, den = 0;
          for (int i = 1; i <= w; ++i) {
            const long a = std::min<long>(static_cast<long>(t) + i, static_cast<long>(n) - 1);
            const long b = std::max<long>(static_cast<long>(t) - i, 0);
            num += i * (static_cast<double>(x[a * stride + d]) - x[b * stride + d]);
            den += 2.0 * i * i;
          }
          ASSERT_FLOAT_EQ(out[t * dims + d], static_cast<float>(num / den)) << "w=" << w << " n=" << n << " t=" << t;
        }
      }
    }
  }
}

TEST(SegmentDeltasTest, SkipsZerosAndKeepsOneRunningDenominator) {
  // Two columns processed frame by frame, as cDeltaRegression does with
  // onlyInSegments = 1. The denominator starts at 10 and grows by i^2 for
  // every pair used, across columns and frames.
  //   A: 100 0 120 130 (0 = unvoiced), B: 0.5 0.6 0.7 0.8
  // t=0 A: i=1 pair (0, 100) skipped; i=2 (120, x0=100): num 40, norm 14      -> 40/14
  //     B: i=1 (0.6, 0.5): 0.1, norm 15; i=2 (0.7, 0.5): +0.4, norm 19        -> 0.5/19
  // t=1 A: i=1 (120, 100): 20, norm 20; i=2 (130, x0=100): +60, norm 24       -> 80/24
  //     B: i=1 (0.7, 0.5): 0.2, norm 25; i=2 (0.8, 0.5): +0.6, norm 29        -> 0.8/29
  // t=2 A: i=1 (130, 0) skipped; i=2 (x3=130, 100): 60, norm 33               -> 60/33
  //     B: i=1 (0.8, 0.6): 0.2, norm 34; i=2 (0.8, 0.5): +0.6, norm 38        -> 0.8/38
  // t=3 A: i=1 (x3=130, 120): 10, norm 39; i=2 (130, 0) skipped               -> 10/39
  //     B: i=1 (0.8, 0.7): 0.1, norm 40; i=2 (0.8, 0.6): +0.4, norm 44        -> 0.5/44
  const std::vector<float> x = {100, 0.5f, 0, 0.6f, 120, 0.7f, 130, 0.8f};
  std::vector<float> out(8, 99.0f);
  ComputeSegmentDeltas(x.data(), 4, 2, 2, out.data(), 2, 2);
  const double a[] = {40.0 / 14, 80.0 / 24, 60.0 / 33, 10.0 / 39};
  const double b[] = {0.5 / 19, 0.8 / 29, 0.8 / 38, 0.5 / 44};
  for (int t = 0; t < 4; ++t) {
    EXPECT_FLOAT_EQ(out[2 * t], static_cast<float>(a[t])) << t;
    EXPECT_FLOAT_EQ(out[2 * t + 1], static_cast<float>(b[t])) << t;
  }
}

TEST(SegmentDeltasTest, AllZeroColumnGivesZerosAndLeavesDenominator) {
  // Column 0 is all zero: no pair is used, its deltas are 0 and the
  // denominator seen by column 1 is the same as without it.
  const std::vector<float> x = {0, 1, 0, 2, 0, 4};
  std::vector<float> out(6);
  ComputeSegmentDeltas(x.data(), 3, 2, 2, out.data(), 2, 2);
  const std::vector<float> alone = {1, 2, 4};
  std::vector<float> ref(3);
  ComputeSegmentDeltas(alone.data(), 3, 1, 1, ref.data(), 1, 2);
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(out[2 * t], 0.0f);
    EXPECT_FLOAT_EQ(out[2 * t + 1], ref[t]);
  }
  // Single column 1 2 4: t=0: 1 + 6 = 7 / (10 + 5); t=1: 3 + 6 = 9 / 20; t=2: 2 + 6 = 8 / 25.
  EXPECT_FLOAT_EQ(ref[0], 7.0f / 15);
  EXPECT_FLOAT_EQ(ref[1], 9.0f / 20);
  EXPECT_FLOAT_EQ(ref[2], 8.0f / 25);
}

TEST(SegmentDeltasTest, WindowZeroIsGuardedDifference) {
  const std::vector<float> x = {3, 0, 5, 6};
  std::vector<float> out(4);
  ComputeSegmentDeltas(x.data(), 4, 1, 1, out.data(), 1, 0);
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0, 1}));
}

}  // namespace
}  // namespace avctl
