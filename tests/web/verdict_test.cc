#include "web/verdict.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

ComparisonResult Comparison(double diff, double lo, double hi, int n, double p, double p_holm, double alpha) {
  ComparisonResult c;
  c.kind = "comparison";
  c.variant = "ladder_av";
  c.baseline = "backbone";
  c.metric = "macro_f1";
  c.t.defined = n >= 2;
  c.t.n = n;
  c.t.mean_diff = diff;
  c.t.ci_low = lo;
  c.t.ci_high = hi;
  c.t.p = p;
  c.p_holm = p_holm;
  c.significant = p_holm < alpha;
  c.significant_raw = p < alpha;
  c.pairs.x.assign(static_cast<size_t>(n), 0.0);
  c.pairs.y.assign(static_cast<size_t>(n), 0.0);
  return c;
}

TEST(VerdictTest, OneSentencePerComparisonSayingWhetherItHolds) {
  ReportAnalysis a;
  a.alpha = 0.05;
  a.comparisons.push_back(Comparison(0.047, 0.021, 0.073, 20, 0.001, 0.003, 0.05));
  a.comparisons.push_back(Comparison(-0.019, -0.061, 0.023, 5, 0.71, 0.71, 0.05));
  a.comparisons.push_back(Comparison(0.02, -0.001, 0.041, 20, 0.03, 0.06, 0.05));
  ComparisonResult ablation = Comparison(0.01, 0, 0.02, 20, 0.01, 0.02, 0.05);
  ablation.kind = "ablation";
  a.comparisons.push_back(ablation);
  a.comparisons.push_back(Comparison(0, 0, 0, 1, 1, 1, 0.05));
  const auto v = VerdictSentences(a);
  ASSERT_EQ(v.size(), 4u);  // the ablation keeps its own table
  EXPECT_EQ(v[0], "ladder_av beats backbone by +4.7 pp macro F1 (95% CI +2.1 to +7.3), 20 matched pairs, "
                  "Holm-adjusted p = 0.003: significant at α = 0.05.");
  EXPECT_EQ(v[1], "ladder_av does not beat backbone significantly: \u22121.9 pp macro F1 (95% CI \u22126.1 to +2.3), "
                  "5 matched pairs, Holm-adjusted p = 0.71: not significant at α = 0.05.");
  EXPECT_NE(v[2].find("not significant at α = 0.05 (the unadjusted p = 0.03 is below it)"), std::string::npos) << v[2];
  EXPECT_EQ(v[3], "ladder_av against backbone: 1 matched pair(s), too few for a test of macro F1.");
}

TEST(VerdictTest, SaysHowOftenTheVariantWinsItsPairs) {
  ReportAnalysis a;
  a.alpha = 0.05;
  ComparisonResult c = Comparison(0.047, 0.021, 0.073, 20, 0.001, 0.003, 0.05);
  c.paired_wins.defined = true;
  c.paired_wins.estimate = 0.85;
  c.paired_wins.low = 0.7;
  c.paired_wins.high = 0.95;
  a.comparisons.push_back(c);
  const auto v = VerdictSentences(a);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "ladder_av beats backbone by +4.7 pp macro F1 (95% CI +2.1 to +7.3), 20 matched pairs, "
                  "Holm-adjusted p = 0.003: significant at α = 0.05. It wins 85% of the matched pairs (95% CI 70% "
                  "to 95%).");
}

TEST(VerdictTest, MetricNamesReadAsWords) {
  EXPECT_EQ(MetricWords("macro_f1"), "macro F1");
  EXPECT_EQ(MetricWords("accuracy"), "accuracy");
  EXPECT_EQ(MetricWords("micro_precision"), "micro precision");
  EXPECT_NE(SyntheticCaveat().find("synthetic"), std::string::npos);
}

TEST(VerdictTest, AMetricOutsideZeroToOneIsInItsOwnUnits) {
  ReportAnalysis a;
  a.alpha = 0.05;
  ComparisonResult c = Comparison(-0.125, -0.2, -0.05, 10, 0.001, 0.001, 0.05);
  c.metric = "dev_loss";
  c.tail = Tail::kLess;
  c.percent = false;
  a.comparisons.push_back(c);
  const auto v = VerdictSentences(a);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0], "ladder_av beats backbone by \u22120.125 dev loss (lower is better) (95% CI \u22120.2 to \u22120.05), "
                  "10 matched pairs, Holm-adjusted p = 0.001: significant at α = 0.05.");
}

}  // namespace
}  // namespace avctl
