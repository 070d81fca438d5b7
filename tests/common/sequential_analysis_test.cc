#include "common/sequential_analysis.h"

#include <cmath>

#include <gtest/gtest.h>

namespace avctl {
namespace {

// Reference: rpact 3.3.4, a paired (one-sample) mean stopped for efficacy at
// the second of four looks (5 pairs per stage):
//   d <- getDesignGroupSequential(kMax = 4, alpha = 0.025, sided = 1, typeOfDesign = "asOF")
//   data <- getDataset(n = c(5, 5), means = c(1.2, 1.6), stDevs = c(1, 1.1))
//   for (na in c(FALSE, TRUE)) {
//     r <- getAnalysisResults(design = d, dataInput = data, directionUpper = TRUE, normalApproximation = na)
//     print(c(r$finalPValues[2], r$finalConfidenceIntervalLowerBounds[2],
//             r$finalConfidenceIntervalUpperBounds[2], r$medianUnbiasedEstimates[2]))
//     print(r$.stageResults$overallPValues[2])   # the look's one-sided p
//   }
// The look: 10 pairs, mean 1.4, sd 1.013246 (r$.stageResults$overallStDevs[2]).
TEST(SequentialAnalysis, FinalPValueIntervalAndMedianUnbiasedEstimateEqualRpact) {
  SequentialDesignSpec spec;
  spec.looks = {5, 10, 15, 20};
  spec.alpha = 0.025;
  const SequentialDesign d = *MakeSequentialDesign(spec);
  struct Case {
    const char* what;
    double look_p, final_p, low, high, estimate;
  };
  for (const Case& c : std::vector<Case>{
           {"t-test p (normalApproximation = FALSE)", 0.0008994423, 0.0009027611, 0.3719934, 1.628131, 1.00009},
           {"normal p (normalApproximation = TRUE)", 6.231858e-06, 1.31946e-05, 0.7618674, 2.025177, 1.395389}}) {
    const StagewiseAnalysis a = AnalyseStagewise(d, 1, c.look_p, 10, 1.4, 1.013246);
    ASSERT_TRUE(a.defined) << c.what;
    EXPECT_NEAR(a.p, c.final_p, 1e-6 * c.final_p + 1e-9) << c.what;
    EXPECT_NEAR(a.ci_low, c.low, 2e-5) << c.what;
    EXPECT_NEAR(a.ci_high, c.high, 2e-5) << c.what;
    EXPECT_NEAR(a.estimate, c.estimate, 2e-5) << c.what;
    EXPECT_LT(a.estimate, 1.4) << c.what << ": the early stop's naive mean is biased upward";
  }
}

// Reference: rpact 3.3.4, a stop at the first of two Pocock-type looks:
//   d <- getDesignGroupSequential(kMax = 2, alpha = 0.025, sided = 1, typeOfDesign = "asP")
//   r <- getAnalysisResults(design = d, dataInput = getDataset(n = 5, means = 2, stDevs = 1),
//                           directionUpper = TRUE)
//   c(r$finalPValues[1], r$finalConfidenceIntervalLowerBounds[1],
//     r$finalConfidenceIntervalUpperBounds[1], r$medianUnbiasedEstimates[1])
//   # 0.005528247 1.123477459 2.876522541 2.000000000 (the look's t-test p: 0.005528247)
// Reference: the same rpact run's repeated confidence intervals,
//   r$repeatedConfidenceIntervalLowerBounds[1:2], r$repeatedConfidenceIntervalUpperBounds[1:2]
//   normalApproximation = FALSE: -10.06779 0.1138347 | 12.46779 2.686165
//   normalApproximation = TRUE:  -0.7376127 0.4505643 | 3.137613 2.349436
// (looks: 5 pairs, mean 1.2, sd 1; 10 pairs, mean 1.4, sd 1.013246).
TEST(SequentialAnalysis, RepeatedConfidenceIntervalsEqualRpact) {
  SequentialDesignSpec spec;
  spec.looks = {5, 10, 15, 20};
  spec.alpha = 0.025;
  const SequentialDesign d = *MakeSequentialDesign(spec);
  struct Case {
    bool t;
    int look, pairs;
    double mean, sd, low, high;
  };
  for (const Case& c : std::vector<Case>{{true, 0, 5, 1.2, 1.0, -10.06779, 12.46779},
                                         {true, 1, 10, 1.4, 1.013246, 0.1138347, 2.686165},
                                         {false, 0, 5, 1.2, 1.0, -0.7376127, 3.137613},
                                         {false, 1, 10, 1.4, 1.013246, 0.4505643, 2.349436}}) {
    const RepeatedInterval i = RepeatedConfidenceInterval(d, c.look, c.pairs, c.mean, c.sd, c.t);
    ASSERT_TRUE(i.defined);
    EXPECT_NEAR(i.low, c.low, 2e-5) << c.t << " look " << c.look;
    EXPECT_NEAR(i.high, c.high, 2e-5) << c.t << " look " << c.look;
  }
  EXPECT_FALSE(RepeatedConfidenceInterval(d, 4, 10, 1, 1).defined);
}

TEST(SequentialAnalysis, AFirstLookStopIsTheSampleMeanWithRpactsInterval) {
  SequentialDesignSpec spec;
  spec.looks = {5, 10};
  spec.alpha = 0.025;
  spec.spending = AlphaSpending::kPocock;
  const SequentialDesign d = *MakeSequentialDesign(spec);
  const StagewiseAnalysis a = AnalyseStagewise(d, 0, 0.005528247, 5, 2.0, 1.0);
  ASSERT_TRUE(a.defined);
  EXPECT_DOUBLE_EQ(a.estimate, 2.0);
  EXPECT_DOUBLE_EQ(a.p, 0.005528247);
  EXPECT_NEAR(a.ci_low, 1.123477459, 1e-8);
  EXPECT_NEAR(a.ci_high, 2.876522541, 1e-8);
  EXPECT_FALSE(AnalyseStagewise(d, 1, 0.5, 1, 0.0, 1.0).defined);  // fewer than 2 pairs
  EXPECT_FALSE(AnalyseStagewise(d, 2, 0.5, 10, 0.0, 1.0).defined);  // no such look
  EXPECT_FALSE(AnalyseStagewise(d, 1, 1e-20, 10, 3.0, 1.0).defined);  // beyond z = 8, as rpact
}

}  // namespace
}  // namespace avctl
