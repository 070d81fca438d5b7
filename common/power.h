// Seed planning for the one-tailed matched paired t-test: its power at a
// given number of pairs, the smallest true mean difference it detects with
// a given power, and the pairs it needs to detect a given difference. The
// power comes from the noncentral t distribution (Boost.Math):
//   power = P(T'(df = n - 1, ncp = delta sqrt(n) / sd) > t_{1-alpha, n-1}),
// with delta the true mean difference in the tested direction and sd the
// standard deviation of the paired differences. Pure code.
//
// Degenerate cases: n < 2 has no test (power NaN, not defined). sd = 0: the
// test rejects for any delta > 0 once n >= 2 (power 1) and never for
// delta <= 0 (power 0); the detectable difference is then 0 and 2 pairs
// suffice for any delta > 0. delta <= 0 can never reach a power above
// alpha, so no number of pairs suffices (PairsNeeded returns 0).
#pragma once

namespace avctl {

inline constexpr double kPlanningPower = 0.8;  // the conventional target
inline constexpr int kMaxPlannedPairs = 100000;

// NaN when n < 2 or sd < 0.
double PairedTTestPower(double delta, double sd, int n, double alpha);

// The smallest delta >= 0 with power >= `power` at n pairs; NaN when n < 2.
double MinDetectableDifference(double sd, int n, double alpha, double power = kPlanningPower);

// The smallest n >= 2 with power >= `power` for a true difference delta;
// 0 when none up to kMaxPlannedPairs does (delta <= 0, or too small for sd).
int PairsNeeded(double delta, double sd, double alpha, double power = kPlanningPower);

// The seed plan of one comparison from its observed paired differences:
// at the sweep's alpha and at Holm's worst case (alpha / family size, the
// threshold the smallest p of the family must pass).
struct SeedPlan {
  bool defined = false;   // n >= 2 (else every figure below is NaN or 0)
  int n = 0;              // matched pairs so far
  double observed = 0;    // mean difference in the tested direction
  double sd = 0;          // sd of the paired differences
  double alpha = 0, alpha_holm = 0;
  // Power to detect a true difference equal to the observed one, at n pairs.
  double power = 0, power_holm = 0;
  // The smallest true difference detected with 80% power at n pairs.
  double detectable = 0, detectable_holm = 0;
  // Pairs for 80% power to detect the observed difference (0: none suffices).
  int pairs = 0, pairs_holm = 0;
  double min_effect = 0;  // user-set (comparisons[].min_effect); 0: none
  double power_min_effect = 0, power_min_effect_holm = 0;
  int pairs_min_effect = 0, pairs_min_effect_holm = 0;
};

SeedPlan PlanSeeds(int n, double observed, double sd, double alpha, int family_size, double min_effect);

}  // namespace avctl
