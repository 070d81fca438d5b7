#include "common/paired_stats.h"

#include <cmath>

#include <gtest/gtest.h>

namespace avctl {
namespace {

// Student's sleep data (Cushny & Peebles 1905), R's `sleep`:
//   t.test(extra[group == 2], extra[group == 1], paired = TRUE)
//   t = 4.0621, df = 9, p-value = 0.002833 (two-sided),
//   95 percent confidence interval: 0.7001142 2.4598858, mean difference 1.58
const std::vector<double> kSleep1 = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0};
const std::vector<double> kSleep2 = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4};

TEST(PairedTTest, StudentsSleepDataAsPublishedByR) {
  PairedTTest r = PairedTTestOneTailed(kSleep2, kSleep1, Tail::kGreater);
  ASSERT_TRUE(r.defined);
  EXPECT_EQ(r.n, 10);
  EXPECT_NEAR(r.mean_diff, 1.58, 1e-12);
  EXPECT_NEAR(r.t, 4.0621, 5e-5);
  EXPECT_DOUBLE_EQ(r.df, 9);
  EXPECT_NEAR(r.p, 0.002833 / 2, 5e-7);
  EXPECT_NEAR(r.ci_low, 0.7001142, 5e-7);
  EXPECT_NEAR(r.ci_high, 2.4598858, 5e-7);
  EXPECT_NEAR(r.sd_diff, 1.2299955, 5e-7);
  EXPECT_NEAR(r.dz, 1.58 / 1.2299955, 1e-6);
  // The other direction: p = 1 - 0.0014165.
  PairedTTest less = PairedTTestOneTailed(kSleep2, kSleep1, Tail::kLess);
  EXPECT_NEAR(less.p, 1 - 0.002833 / 2, 5e-7);
}

TEST(PairedTTest, DegenerateCases) {
  PairedTTest none = PairedTTestOneTailed({}, {}, Tail::kGreater);
  EXPECT_FALSE(none.defined);
  EXPECT_EQ(none.p, 1);
  PairedTTest one = PairedTTestOneTailed({0.8}, {0.7}, Tail::kGreater);
  EXPECT_FALSE(one.defined);
  EXPECT_EQ(one.n, 1);
  EXPECT_EQ(one.p, 1);
  // Zero variance: every difference +0.1.
  PairedTTest same = PairedTTestOneTailed({0.6, 0.7, 0.8}, {0.5, 0.6, 0.7}, Tail::kGreater);
  EXPECT_TRUE(same.defined);
  EXPECT_TRUE(std::isinf(same.t) && same.t > 0);
  EXPECT_EQ(same.p, 0);
  EXPECT_NEAR(same.ci_low, 0.1, 1e-12);
  EXPECT_EQ(PairedTTestOneTailed({0.6, 0.7, 0.8}, {0.5, 0.6, 0.7}, Tail::kLess).p, 1);
  // Identical runs: no evidence either way.
  PairedTTest zero = PairedTTestOneTailed({0.5, 0.6}, {0.5, 0.6}, Tail::kGreater);
  EXPECT_EQ(zero.t, 0);
  EXPECT_EQ(zero.p, 1);
  EXPECT_EQ(zero.dz, 0);
}

TEST(Wilcoxon, HollanderWolfeDepressionDataAsPublishedByR) {
  // R: wilcox.test(x, y, paired = TRUE, alternative = "greater") -> V = 40, p-value = 0.01953
  const std::vector<double> x = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
  const std::vector<double> y = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};
  WilcoxonTest r = WilcoxonSignedRank(x, y, Tail::kGreater);
  ASSERT_TRUE(r.defined);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.n, 9);
  EXPECT_DOUBLE_EQ(r.w_plus, 40);
  EXPECT_DOUBLE_EQ(r.w_minus, 5);
  EXPECT_DOUBLE_EQ(r.p, 10.0 / 512.0);  // 0.01953125
  WilcoxonTest less = WilcoxonSignedRank(x, y, Tail::kLess);
  // P(W+ <= 40) = 1 - P(W+ >= 41); 7 of the 512 sign patterns reach 41 or
  // more (their complements sum to at most 4).
  EXPECT_NEAR(less.p, 1 - 7.0 / 512.0, 1e-12);
}

TEST(Wilcoxon, TiesAndZerosUseTheCorrectedNormalApproximation) {
  // d = 1, 1, 2, -3, 4, 4, 5, 6 plus one zero (dropped). Average ranks
  // 1.5 1.5 3 4 5.5 5.5 7 8: W+ = 32, W- = 4; mean 18, variance
  // 8*9*17/24 - (6 + 6)/48 = 50.75; z = (32 - 18 - 0.5) / sqrt(50.75).
  const std::vector<double> x = {1, 1, 2, 0, 4, 4, 5, 6, 7};
  const std::vector<double> y = {0, 0, 0, 3, 0, 0, 0, 0, 7};
  WilcoxonTest r = WilcoxonSignedRank(x, y, Tail::kGreater);
  ASSERT_TRUE(r.defined);
  EXPECT_FALSE(r.exact);
  EXPECT_TRUE(r.ties);
  EXPECT_EQ(r.zeros, 1);
  EXPECT_EQ(r.n, 8);
  EXPECT_DOUBLE_EQ(r.w_plus, 32);
  EXPECT_DOUBLE_EQ(r.w_minus, 4);
  EXPECT_NEAR(r.z, 13.5 / std::sqrt(50.75), 1e-12);
  EXPECT_NEAR(r.p, 0.02904, 5e-5);
  WilcoxonTest all_zero = WilcoxonSignedRank({1, 2}, {1, 2}, Tail::kGreater);
  EXPECT_FALSE(all_zero.defined);
  EXPECT_EQ(all_zero.p, 1);
}

TEST(Holm, StepDownAdjustmentInInputOrder) {
  // Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.02, 0.03, 0.06, 0.06.
  std::vector<double> adj = HolmAdjust({0.01, 0.04, 0.03, 0.005});
  ASSERT_EQ(adj.size(), 4u);
  EXPECT_NEAR(adj[0], 0.03, 1e-15);
  EXPECT_NEAR(adj[1], 0.06, 1e-15);
  EXPECT_NEAR(adj[2], 0.06, 1e-15);
  EXPECT_NEAR(adj[3], 0.02, 1e-15);
  EXPECT_EQ(HolmAdjust({0.6, 0.7})[1], 1.0);  // capped at 1
  EXPECT_TRUE(HolmAdjust({}).empty());
}

TEST(MatchPairs, OnlyCompletePairsAndTheMissingCounted) {
  std::map<PairKey, double> a = {{{1, 0}, 0.5}, {{1, 1}, 0.6}, {{1, 2}, 0.7}};
  std::map<PairKey, double> b = {{{1, 0}, 0.4}, {{1, 2}, 0.65}, {{2, 0}, 0.1}};
  MatchedPairs m = MatchPairs(a, b);
  ASSERT_EQ(m.keys.size(), 2u);
  EXPECT_EQ(m.keys[0], (PairKey{1, 0}));
  EXPECT_EQ(m.keys[1], (PairKey{1, 2}));
  EXPECT_DOUBLE_EQ(m.x[1], 0.7);
  EXPECT_DOUBLE_EQ(m.y[1], 0.65);
  EXPECT_EQ(m.unmatched_x, 1);
  EXPECT_EQ(m.unmatched_y, 1);
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {

// Reference: t(0.975, 3) = 3.182446305284263 (tables, scipy.stats.t.ppf) times the standard error.
TEST(MeanInterval, StudentTIntervalAndDegenerateCases) {
  const MeanInterval r = MeanConfidenceInterval({0.31, 0.28, 0.35, 0.30});
  EXPECT_TRUE(r.defined);
  EXPECT_EQ(r.n, 4);
  EXPECT_NEAR(r.mean, 0.31, 1e-12);
  EXPECT_NEAR(r.low, 0.263155658769668, 1e-9);
  EXPECT_NEAR(r.high, 0.356844341230332, 1e-9);
  const MeanInterval one = MeanConfidenceInterval({0.5});
  EXPECT_FALSE(one.defined);
  EXPECT_EQ(one.low, 0.5);
  EXPECT_EQ(one.high, 0.5);
  EXPECT_EQ(MeanConfidenceInterval({}).n, 0);
}

}  // namespace
}  // namespace avctl
