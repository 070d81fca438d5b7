// Effect sizes beyond the p-value, with seeded bootstrap intervals:
//  - the interquartile mean of a variant's runs (Agarwal et al., NeurIPS
//    2021, rliable's aggregate_iqm: the 25% trimmed mean of every run);
//  - the probability of improvement P(X > Y) + P(X = Y) / 2 of a variant X
//    over a baseline Y, unpaired (rliable's probability_of_improvement:
//    Mann-Whitney's U over n_x n_y per stratum, averaged over strata);
//  - its paired version (Bouthillier et al., MLSys 2021): the share of
//    matched pairs the variant wins, ties counting one half.
// Scores come grouped by stratum (rliable's tasks; here the partitions), and
// the intervals are rliable's stratified percentile bootstrap: runs (or
// pairs) are resampled with replacement within each stratum. The streams
// are seeded, so the same inputs give the same interval. Pure code.
#pragma once

#include <cstdint>
#include <vector>

#include "common/paired_stats.h"

namespace avctl {

// strata[s]: the scores of the runs in stratum s (a partition's seeds).
using Strata = std::vector<std::vector<double>>;

// scipy.stats.trim_mean(all scores, 0.25): the mean of the sorted scores
// with int(0.25 n) cut from each end. NaN when there are no scores.
double InterquartileMean(const Strata& scores);

// Improvement means "greater" or "less" as the comparison's direction says.
// Strata where either side has no runs are skipped; NaN when none is left.
double ProbabilityOfImprovement(const Strata& x, const Strata& y, Tail tail);

// x[s][i] is matched with y[s][i] (the caller matches on partition and seed;
// the sizes of x[s] and y[s] must agree). NaN when there are no pairs.
double PairedProbabilityOfImprovement(const Strata& x, const Strata& y, Tail tail);

struct BootstrapOptions {
  int reps = 50000;  // rliable's default
  double confidence = 0.95;
  uint64_t seed = 0;
};

struct EffectInterval {
  bool defined = false;  // false: nothing to estimate (no runs or pairs)
  double estimate = 0;   // on the data as given
  double low = 0, high = 0;  // percentile bootstrap interval
};

EffectInterval InterquartileMeanInterval(const Strata& scores, const BootstrapOptions& options);
EffectInterval ProbabilityOfImprovementInterval(const Strata& x, const Strata& y, Tail tail,
                                                const BootstrapOptions& options);
EffectInterval PairedProbabilityOfImprovementInterval(const Strata& x, const Strata& y, Tail tail,
                                                      const BootstrapOptions& options);

}  // namespace avctl
