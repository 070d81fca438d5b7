#include "common/sequential_family.h"

#include <cmath>

#include <gtest/gtest.h>

#include "common/random.h"

namespace avctl {
namespace {

SequentialDesignSpec FourLooks() {
  SequentialDesignSpec spec;
  spec.looks = {5, 10, 15, 20};
  spec.alpha = 0.05;
  return spec;
}

LookData Data(int pairs, double p, double t = 0) { return {pairs, p, t}; }

// rpact's stage levels (tests/common/sequential_design_test.cc): at look 2
// of four equally spaced, O'Brien-Fleming type, 0.001522631723 at alpha
// 0.025 (= 0.05 / 2) and 0.005543533635 at alpha 0.05.
TEST(SequentialFamily, ARejectionPassesItsAlphaOnAndTheOtherIsRetestedAtTheSameLook) {
  SequentialFamily f(FourLooks(), 2);
  ASSERT_TRUE(f.AnalyseLook(0, {Data(5, 0.3), Data(5, 0.3)}).ok());
  EXPECT_EQ(f.comparisons()[0].decision, SequentialDecision::kContinue);
  // A passes alpha / 2's bound; B (0.004) only alpha's: rejected after A frees its share.
  ASSERT_TRUE(f.AnalyseLook(1, {Data(10, 0.001), Data(10, 0.004)}).ok());
  EXPECT_EQ(f.comparisons()[0].decision, SequentialDecision::kEfficacy);
  EXPECT_EQ(f.comparisons()[1].decision, SequentialDecision::kEfficacy);
  EXPECT_EQ(f.comparisons()[1].decided_look, 1);
  EXPECT_NEAR(f.comparisons()[1].bound_p, 0.005543533635, 1e-8);
  EXPECT_DOUBLE_EQ(f.comparisons()[1].level, 0.05);
  EXPECT_TRUE(f.all_decided());

  // B's p alone would not do: with A not rejected, B keeps alpha / 2.
  SequentialFamily g(FourLooks(), 2);
  ASSERT_TRUE(g.AnalyseLook(0, {Data(5, 0.3), Data(5, 0.3)}).ok());
  ASSERT_TRUE(g.AnalyseLook(1, {Data(10, 0.01), Data(10, 0.004)}).ok());
  EXPECT_EQ(g.comparisons()[1].decision, SequentialDecision::kContinue);
  EXPECT_NEAR(g.comparisons()[1].bound_p, 0.001522631723, 1e-8);
  // At the last look, whatever is undecided is accepted.
  ASSERT_TRUE(g.AnalyseLook(2, {Data(15, 0.2), Data(15, 0.2)}).ok());
  ASSERT_TRUE(g.AnalyseLook(3, {Data(20, 0.2), Data(20, 0.2)}).ok());
  EXPECT_EQ(g.comparisons()[0].decision, SequentialDecision::kAccepted);
  EXPECT_FALSE(g.AnalyseLook(4, {Data(20, 0.2), Data(20, 0.2)}).ok());
}

TEST(SequentialFamily, BoundsFollowThePairsActuallyReached) {
  SequentialDesignCache cache;
  SequentialFamily f(FourLooks(), 1, &cache);
  ASSERT_TRUE(f.AnalyseLook(0, {Data(5, 0.3)}).ok());
  // Two jobs of the second stage failed for good: 8 pairs, not 10.
  ASSERT_TRUE(f.AnalyseLook(1, {Data(8, 0.3)}).ok());
  SequentialDesignSpec reached = FourLooks();
  reached.looks = {5, 8, 15, 20};
  auto d = MakeSequentialDesign(reached);
  ASSERT_TRUE(d.ok());
  EXPECT_DOUBLE_EQ(f.comparisons()[0].bound_p, d->nominal_alpha[1]);
  // No new pairs at the third look: not tested there, nothing spent.
  ASSERT_TRUE(f.AnalyseLook(2, {Data(8, 0.0001)}).ok());
  EXPECT_EQ(f.comparisons()[0].decision, SequentialDecision::kContinue);
  EXPECT_EQ(f.comparisons()[0].pairs, (std::vector<int>{5, 8}));
  // The last look spends the rest at the pairs it has (18): information 1 there.
  ASSERT_TRUE(f.AnalyseLook(3, {Data(18, 0.3)}).ok());
  reached.looks = {5, 8, 18};
  EXPECT_DOUBLE_EQ(f.comparisons()[0].bound_p, MakeSequentialDesign(reached)->nominal_alpha[2]);
  EXPECT_EQ(f.comparisons()[0].decision, SequentialDecision::kAccepted);
}

TEST(SequentialFamily, FutilityStopsBelowTheBoundAndKeepsItsShare) {
  SequentialDesignSpec spec = FourLooks();
  spec.futility = true;
  SequentialFamily f(spec, 2);
  ASSERT_TRUE(f.AnalyseLook(0, {Data(5, 0.9, -2.0), Data(5, 0.3, 0.6)}).ok());
  EXPECT_EQ(f.comparisons()[0].decision, SequentialDecision::kFutility);
  EXPECT_EQ(f.comparisons()[1].decision, SequentialDecision::kContinue);
  EXPECT_DOUBLE_EQ(f.comparisons()[1].level, 0.025);  // a futility stop frees nothing
  EXPECT_FALSE(f.AnalyseLook(0, {Data(5, 0.9), Data(5, 0.3)}).ok());  // out of order
  EXPECT_FALSE(f.AnalyseLook(1, {Data(10, 0.9)}).ok());                // one comparison's data missing
  EXPECT_FALSE(f.AnalyseLook(1, {Data(10, 0.9), Data(11, 0.1)}).ok()); // more pairs than planned
}

// The family-wise error under the global null stays at alpha: three
// comparisons sharing a baseline (their statistics correlate by 1/2), four
// looks, z statistics (the normal theory the bounds are built on), 20,000
// seeded paths (measured: 0.0423).
TEST(SequentialFamily, FamilyWiseErrorUnderTheNullIsAtMostAlpha) {
  SequentialDesignCache cache;
  Rng rng(1983);
  const int paths = 20000;
  int any = 0;
  for (int path = 0; path < paths; ++path) {
    SequentialFamily f(FourLooks(), 3, &cache);
    double shared = 0, own[3] = {0, 0, 0};
    for (int look = 0; look < 4; ++look) {
      const int n = 5 * (look + 1);
      for (int step = 0; step < 5; ++step) {
        shared += rng.Gaussian();
        for (double& o : own) o += rng.Gaussian();
      }
      std::vector<LookData> data;
      for (double o : own) {
        const double z = (shared + o) / std::sqrt(2.0 * n);
        data.push_back({n, 0.5 * std::erfc(z / std::sqrt(2.0)), z});
      }
      ASSERT_TRUE(f.AnalyseLook(look, data).ok());
      if (f.all_decided()) break;
    }
    bool rejected = false;
    for (const auto& c : f.comparisons()) rejected |= c.decision == SequentialDecision::kEfficacy;
    any += rejected;
  }
  const double fwer = static_cast<double>(any) / paths;
  EXPECT_LE(fwer, 0.05 + 3 * std::sqrt(0.05 * 0.95 / paths)) << fwer;
  EXPECT_GT(fwer, 0.03) << fwer;  // Holm with correlated tests: below alpha, not far below
}

}  // namespace
}  // namespace avctl
