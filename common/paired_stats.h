// Matched paired statistics for comparing two models over the same runs
// (pairs matched on partition and seed): the one-tailed paired t-test with
// its confidence interval and effect size, the Wilcoxon signed-rank test as
// a distribution-free check, and Holm-Bonferroni adjustment over a family of
// comparisons. Distributions come from Boost.Math. Pure code.
//
// Conventions: d_i = x_i - y_i (the variant minus its baseline). Direction
// "greater" tests H1: mean d > 0; "less" tests H1: mean d < 0.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace avctl {

enum class Tail { kGreater, kLess };
const char* TailName(Tail t);
// "greater" or "less"; nullopt otherwise.
std::optional<Tail> ParseTail(const std::string& s);

using PairKey = std::pair<int, uint64_t>;  // (partition, seed)

struct MatchedPairs {
  std::vector<PairKey> keys;    // in key order
  std::vector<double> x, y;     // x[i] and y[i] belong to keys[i]
  int unmatched_x = 0;          // runs of x without a partner in y (missing runs)
  int unmatched_y = 0;
};
MatchedPairs MatchPairs(const std::map<PairKey, double>& x, const std::map<PairKey, double>& y);

struct PairedTTest {
  int n = 0;                      // pairs used
  double mean_diff = 0;
  double sd_diff = 0;             // sample standard deviation (n - 1)
  double t = 0;
  double df = 0;
  double p = 1;                   // one-tailed, in the requested direction
  double ci_low = 0, ci_high = 0; // two-sided confidence interval of the mean difference
  double dz = 0;                  // Cohen's d_z = mean_diff / sd_diff
  bool defined = false;           // false: fewer than 2 pairs (p = 1, everything else 0)
  std::string note;               // how a degenerate case was resolved
};

// Degenerate cases: fewer than 2 pairs -> undefined, p = 1. Zero variance ->
// t = +-inf and p = 0 when every difference is non-zero in the tested
// direction, p = 1 when it is the other way or all differences are zero
// (t = 0 then); the interval collapses to the mean; d_z = +-inf or 0.
PairedTTest PairedTTestOneTailed(const std::vector<double>& x, const std::vector<double>& y, Tail tail,
                                 double confidence = 0.95);

struct WilcoxonTest {
  int n = 0;           // non-zero differences used (zeros are dropped, Wilcoxon's method)
  int zeros = 0;
  bool ties = false;   // tied absolute differences (average ranks)
  double w_plus = 0;   // sum of ranks of positive differences
  double w_minus = 0;
  double z = 0;        // normal approximation's statistic (when not exact)
  double p = 1;        // one-tailed
  bool exact = false;  // exact null distribution (n <= 50, no ties), else normal with tie and continuity correction
  bool defined = false;
  std::string note;
};
WilcoxonTest WilcoxonSignedRank(const std::vector<double>& x, const std::vector<double>& y, Tail tail);

// Holm-Bonferroni step-down adjusted p-values, in the input order, capped at 1.
// The mean of independent values with its two-sided Student-t confidence
// interval (sample sd, n - 1 df). Fewer than 2 values: the interval
// collapses to the mean and `defined` is false.
struct MeanInterval {
  int n = 0;
  double mean = 0, low = 0, high = 0;
  bool defined = false;
};
MeanInterval MeanConfidenceInterval(const std::vector<double>& x, double confidence = 0.95);

std::vector<double> HolmAdjust(const std::vector<double>& p);

}  // namespace avctl
