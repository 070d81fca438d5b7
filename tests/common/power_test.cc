#include "common/power.h"

#include <cmath>

#include <gtest/gtest.h>

namespace avctl {
namespace {

// Reference values: tests/common/power_reference.py, which integrates the
// normal CDF against the chi-square density with mpmath at 30 digits (the
// noncentral t by its definition), independently of Boost.Math.
TEST(PowerTest, NoncentralTPowerEqualsAnIndependentIntegration) {
  struct Case {
    double delta, sd;
    int n;
    double alpha, expected;
  };
  for (const Case& c : std::vector<Case>{{0.02, 0.03, 20, 0.05, 0.890245873217511},
                                         {0.02, 0.03, 20, 0.05 / 6, 0.641023139161804},
                                         {0.047, 0.05, 20, 0.05, 0.99187102833912},
                                         {0.01, 0.05, 5, 0.05, 0.102444276554267},
                                         {0.1, 0.02, 3, 0.05, 0.999275740290888},
                                         {0.0, 0.03, 20, 0.05, 0.05},
                                         {-0.01, 0.03, 20, 0.05, 0.00101931491791494}}) {
    EXPECT_NEAR(PairedTTestPower(c.delta, c.sd, c.n, c.alpha), c.expected, 1e-6)
        << c.delta << " " << c.sd << " " << c.n << " " << c.alpha;
  }
}

TEST(PowerTest, DetectableDifferenceEqualsAnIndependentRoot) {
  EXPECT_NEAR(MinDetectableDifference(0.03, 20, 0.05), 0.0173075100401511, 1e-6);
  EXPECT_NEAR(MinDetectableDifference(0.03, 20, 0.05 / 6), 0.0235062041755426, 1e-6);
  EXPECT_NEAR(MinDetectableDifference(0.05, 5, 0.05), 0.0679708979427474, 1e-6);
  EXPECT_NEAR(MinDetectableDifference(0.01, 2, 0.05), 0.057928014916903, 1e-6);
  // At the detectable difference the power is the target.
  EXPECT_NEAR(PairedTTestPower(MinDetectableDifference(0.03, 20, 0.05), 0.03, 20, 0.05), 0.8, 1e-9);
}

TEST(PowerTest, PairsNeededIsTheFirstCountReachingThePower) {
  // Reference powers on both sides of each answer (power_reference.py, "edge"):
  // 15 pairs 0.7908, 16 pairs 0.8156; at alpha/6: 26 0.7905, 27 0.8097; 619 0.79966, 620 0.80022.
  EXPECT_EQ(PairsNeeded(0.02, 0.03, 0.05), 16);
  EXPECT_EQ(PairsNeeded(0.02, 0.03, 0.05 / 6), 27);
  EXPECT_EQ(PairsNeeded(0.005, 0.05, 0.05), 620);
  EXPECT_EQ(PairsNeeded(0.1, 0.02, 0.05), 3);
}

TEST(PowerTest, DegenerateCasesAreDefined) {
  EXPECT_TRUE(std::isnan(PairedTTestPower(0.02, 0.03, 1, 0.05)));  // n < 2: no test
  EXPECT_TRUE(std::isnan(PairedTTestPower(0.02, -1, 10, 0.05)));
  EXPECT_TRUE(std::isnan(MinDetectableDifference(0.03, 1, 0.05)));
  // Zero variance: any positive difference is detected with 2 pairs, none other ever.
  EXPECT_EQ(PairedTTestPower(0.01, 0, 2, 0.05), 1.0);
  EXPECT_EQ(PairedTTestPower(0.0, 0, 20, 0.05), 0.0);
  EXPECT_EQ(MinDetectableDifference(0, 20, 0.05), 0.0);
  EXPECT_EQ(PairsNeeded(0.01, 0, 0.05), 2);
  // No difference, or one against the tested direction: no count suffices.
  EXPECT_EQ(PairsNeeded(0.0, 0.03, 0.05), 0);
  EXPECT_EQ(PairsNeeded(-0.01, 0.03, 0.05), 0);
  // A difference too small for the planning cap.
  EXPECT_EQ(PairsNeeded(1e-6, 1.0, 0.05), 0);
}

TEST(PowerTest, SeedPlanUsesHolmsWorstCase) {
  SeedPlan p = PlanSeeds(20, 0.02, 0.03, 0.05, 6, 0.01);
  ASSERT_TRUE(p.defined);
  EXPECT_DOUBLE_EQ(p.alpha_holm, 0.05 / 6);
  EXPECT_NEAR(p.power, 0.890245873217511, 1e-6);
  EXPECT_NEAR(p.power_holm, 0.641023139161804, 1e-6);
  EXPECT_EQ(p.pairs, 16);
  EXPECT_EQ(p.pairs_holm, 27);
  EXPECT_GT(p.pairs_min_effect_holm, p.pairs_min_effect);
  EXPECT_LT(p.power_min_effect, p.power);
  EXPECT_FALSE(PlanSeeds(1, 0.02, 0, 0.05, 1, 0).defined);
}

}  // namespace
}  // namespace avctl
