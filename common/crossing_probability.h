// Boundary-crossing probabilities of a group-sequential test: the chance
// that the standardised statistics Z_1..Z_K, observed at information
// fractions t_1 < ... < t_K = 1, first leave the continuation region
// (lower_k, upper_k) at look k, below or above. Under a drift theta,
// Z_k ~ N(theta sqrt(t_k), 1) with the canonical joint law of Jennison &
// Turnbull (2000, ch. 3): Cov(Z_j, Z_k) = sqrt(t_j / t_k) for j <= k, the
// score statistics sqrt(t_k) Z_k having independent increments.
//
// The recursion is Jennison & Turnbull's (2000, ch. 19): the sub-density of
// Z_k on the continuation region is carried from look to look on their grid
// (6r - 1 points per look, dense within 3 sd of the mean, logarithmic in the
// tails, cut at the bounds) with Simpson's rule; r = 32 here. Pure code.
#pragma once

#include <limits>
#include <vector>

namespace avctl {

inline constexpr double kNoBound = std::numeric_limits<double>::infinity();

struct CrossingProbabilities {
  std::vector<double> upper;  // P(first crossing at look k, above upper_k)
  std::vector<double> lower;  // P(first crossing at look k, below lower_k)
};

// `information` strictly increasing in (0, 1]; `lower` and `upper` one per
// look (-kNoBound / kNoBound where a look has no such bound); lower_k <=
// upper_k. The caller checks these (the design module does).
CrossingProbabilities CrossingProbabilitiesOf(const std::vector<double>& information,
                                              const std::vector<double>& lower,
                                              const std::vector<double>& upper, double drift);

// The sub-density of Z_k on a grid, with Simpson weights: what look k+1's
// crossing probabilities integrate over. Exposed so that a bound can be
// searched at one look without recomputing the looks before it.
struct LookDensity {
  std::vector<double> z;       // grid points within (lower_k, upper_k)
  std::vector<double> weight;  // Simpson weights times the sub-density
};

// Look 1's density given its bounds (before it: nothing).
LookDensity FirstLookDensity(double information, double lower, double upper, double drift);

// Look k's density from look k-1's (`previous`, at information t_prev).
LookDensity NextLookDensity(const LookDensity& previous, double t_prev, double t, double lower, double upper,
                            double drift);

// The probabilities of crossing above `upper` / below `lower` at the look at
// information t, given the previous look's density (null: t is the first
// look).
double CrossAbove(const LookDensity* previous, double t_prev, double t, double upper, double drift);
double CrossBelow(const LookDensity* previous, double t_prev, double t, double lower, double drift);

}  // namespace avctl
