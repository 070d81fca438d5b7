// The group-sequential paired t-test by seeded simulation: what a design
// does to real small-sample t statistics, which the normal recursion of
// common/crossing_probability.h does not see. Paired differences are drawn
// N(effect, 1) (the t statistics' joint law depends on effect / sd only);
// at look k the one-sided paired t statistic of the first n_k differences is
// compared with the look's t-scale bounds. Pure code: the same seed gives
// the same figures.
//
// Strict mode rests on this: since the joint null law of the T_k does not
// depend on sigma, t-scale efficacy bounds that spend alpha on simulated
// null paths hold the type I error at alpha up to Monte Carlo error, which
// a margin of three standard errors below alpha covers.
#pragma once

#include <cstdint>
#include <vector>

#include "common/sequential_design.h"

namespace avctl {

struct SimulationOptions {
  int paths = 100000;
  uint64_t seed = 1;
  bool futility = true;  // stop below the futility bounds (when the design has them)
};

struct SequentialOperatingCharacteristics {
  int paths = 0;
  double effect = 0;          // true mean difference in sd units
  double reject = 0;          // share of paths that rejected at some look
  double expected_pairs = 0;  // mean pairs used (the look where each path stopped, else the last)
  std::vector<double> stop_efficacy;  // share rejecting at look k
  std::vector<double> stop_futility;  // share stopping for futility at look k
};

// Bounds on the t scale, one per look: reject when T_k >= efficacy_t[k];
// with futility, stop when T_k < futility_t[k] (looks before the last).
SequentialOperatingCharacteristics SimulateSequentialTTest(const SequentialDesign& design, double effect,
                                                           const SimulationOptions& options);

inline constexpr int kStrictCalibrationPaths = 1000000;

// t-scale efficacy bounds whose simulated null rejections spend
// alpha' (t_k) = alpha(t_k) (alpha - 3 se) / alpha, se = sqrt(alpha (1 -
// alpha) / paths), cumulatively over looks (futility ignored: non-binding).
std::vector<double> CalibrateStrictBounds(const SequentialDesign& design, int paths, uint64_t seed);

}  // namespace avctl
