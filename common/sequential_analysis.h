// The analysis of a comparison that stopped at an interim look, the way
// rpact's getAnalysisResults does for a one-sample (paired) mean with a
// group-sequential design: the naive mean after an early stop is biased
// upward, so the report gives, under the stage-wise ordering of outcomes
// (Jennison & Turnbull 2000, ch. 8), the final p-value, the median-unbiased
// estimate and the final confidence interval.
//
// As rpact does, the look's statistic is z* = Phi^-1(1 - p), p the paired
// t-test's one-sided p-value there; the effect theta (in sd units of the
// paired differences) moves E[Z_j] to theta sqrt(n_j); the earlier looks'
// efficacy bounds are the design's as planned, futility bounds are ignored
// (non-binding); estimates are theta times the sd of the differences at the
// look. A stop at the first look has no ordering to correct for: the sample
// mean, with mean +- z_{1-alpha} sd / sqrt(n) (rpact's interval there, also
// for the t-test). Pure code; checked against rpact 3.3.4 in
// tests/common/sequential_analysis_test.cc.
#pragma once

#include "common/sequential_design.h"

namespace avctl {

struct StagewiseAnalysis {
  bool defined = false;  // false: the look's z* is beyond 8 (rpact's limit) or the inputs are degenerate
  double p = 1;          // final one-sided p-value, stage-wise ordering
  double estimate = 0;   // median-unbiased estimate of the mean difference, in the metric's units
  double ci_low = 0, ci_high = 0;  // final confidence interval, two-sided level 1 - 2 alpha
};

// `look`: 0-based look where the comparison stopped (or the last); `p`: the
// paired t-test's one-sided p there; `pairs`, `mean`, `sd`: its pairs, mean
// difference (tested direction) and sd of the differences there.
StagewiseAnalysis AnalyseStagewise(const SequentialDesign& design, int look, double p, int pairs, double mean,
                                   double sd);

// The repeated confidence interval at a look (Jennison & Turnbull 1989):
// the mean differences the look's bound does not reject, mean +- b sd /
// sqrt(n) with b the look's efficacy bound on the t scale (`t_scale`, the
// paired t-test's) or the z scale; together over all looks they cover the
// true difference with probability 1 - 2 alpha, whenever the sweep stops.
struct RepeatedInterval {
  bool defined = false;
  double low = 0, high = 0;
};
RepeatedInterval RepeatedConfidenceInterval(const SequentialDesign& design, int look, int pairs, double mean, double sd,
                                    bool t_scale = true);

}  // namespace avctl
