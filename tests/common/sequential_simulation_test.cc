#include "common/sequential_simulation.h"

#include <cmath>

#include <gtest/gtest.h>

namespace avctl {
namespace {

SequentialDesign Design(AlphaSpending spending, bool strict, bool futility = false) {
  SequentialDesignSpec spec;
  spec.looks = {5, 10, 15, 20};
  spec.alpha = 0.05;
  spec.spending = spending;
  spec.strict = strict;
  spec.futility = futility;
  auto d = MakeSequentialDesign(spec);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return *d;
}

double StandardError(double p, int paths) { return std::sqrt(p * (1 - p) / paths); }

// The standard rule (each look's nominal level applied to the paired
// t-test's p-value) lets the type I error exceed alpha a little at small n.
// Reference: 10,000,000 null paths, another seed than the test's:
//   build/bin/sequential_bench --paths 10000000 --effects 0 --seed 99
// "obrien_fleming | 0.00 | 0.0519" and "pocock | 0.00 | 0.0531" (se 0.00007; the fixed
// 20 pairs in the same run: 0.0501).
TEST(SequentialSimulation, TheStandardRulesTypeIErrorIsWhatALargeSimulationSays) {
  const int paths = 200000;
  SimulationOptions o;
  o.paths = paths;
  o.seed = 5;
  const auto of = SimulateSequentialTTest(Design(AlphaSpending::kOBrienFleming, false), 0.0, o);
  EXPECT_NEAR(of.reject, 0.0519, 4 * StandardError(0.0519, paths));
  EXPECT_GT(of.reject, 0.05);  // above alpha: what strict mode is for
  const auto pocock = SimulateSequentialTTest(Design(AlphaSpending::kPocock, false), 0.0, o);
  EXPECT_NEAR(pocock.reject, 0.0531, 4 * StandardError(0.0531, paths));
}

// Strict mode spends alpha minus three calibration standard errors on
// simulated null paths; on a million fresh paths (another seed) its type I
// error is at or below alpha.
TEST(SequentialSimulation, StrictModesTypeIErrorIsAtOrBelowAlpha) {
  SimulationOptions o;
  o.paths = 1000000;
  o.seed = 11;
  for (AlphaSpending s : {AlphaSpending::kOBrienFleming, AlphaSpending::kPocock}) {
    const SequentialDesign d = Design(s, true);
    const auto r = SimulateSequentialTTest(d, 0.0, o);
    EXPECT_LE(r.reject, 0.05) << AlphaSpendingName(s);
    EXPECT_GT(r.reject, 0.047) << AlphaSpendingName(s) << ": strict, not needlessly conservative";
    // Its t bounds lie above the standard rule's (which over-spends).
    const SequentialDesign standard = Design(s, false);
    for (size_t k = 0; k < 4; ++k) {
      EXPECT_GT(d.efficacy_t[k], standard.efficacy_t[k]) << AlphaSpendingName(s) << " look " << k;
      EXPECT_LT(d.nominal_alpha[k], standard.nominal_alpha[k]) << AlphaSpendingName(s) << " look " << k;
    }
  }
}

// The figures: looks at 5/10/15/20 pairs, O'Brien-Fleming spending,
// alpha 0.05: the power of the fixed 20 pairs within 0.02, with at most 13
// expected pairs at d = 1 and 17.5 at d = 0.5; futility ends null
// comparisons early.
TEST(SequentialSimulation, OBrienFlemingKeepsThePowerOfTheFixedDesignWithFewerPairs) {
  SimulationOptions o;
  o.paths = 100000;
  o.seed = 3;
  SequentialDesignSpec fixed_spec;
  fixed_spec.looks = {20};
  const SequentialDesign fixed = *MakeSequentialDesign(fixed_spec);
  const SequentialDesign of = Design(AlphaSpending::kOBrienFleming, false);
  for (double effect : {0.5, 1.0}) {
    const auto f = SimulateSequentialTTest(fixed, effect, o);
    const auto s = SimulateSequentialTTest(of, effect, o);
    EXPECT_NEAR(s.reject, f.reject, 0.02) << effect;
    EXPECT_LE(s.expected_pairs, effect == 1.0 ? 13.0 : 17.5) << effect;
    EXPECT_EQ(f.expected_pairs, 20);
  }
  const SequentialDesign with_futility = Design(AlphaSpending::kOBrienFleming, false, true);
  const auto null = SimulateSequentialTTest(with_futility, 0.0, o);
  EXPECT_LT(null.expected_pairs, 12.5);
  EXPECT_LT(null.reject, 0.05);  // stopping for futility only lowers it
  double futile = 0;
  for (size_t k = 0; k < 3; ++k) futile += null.stop_futility[k];
  EXPECT_GT(futile, 0.8);  // most null comparisons stop for futility before the last look
}

TEST(SequentialSimulation, TheSameSeedGivesTheSameFigures) {
  SimulationOptions o;
  o.paths = 20000;
  o.seed = 8;
  const SequentialDesign d = Design(AlphaSpending::kPocock, false, true);
  const auto a = SimulateSequentialTTest(d, 0.4, o);
  const auto b = SimulateSequentialTTest(d, 0.4, o);
  EXPECT_EQ(a.reject, b.reject);
  EXPECT_EQ(a.expected_pairs, b.expected_pairs);
  EXPECT_EQ(a.stop_futility, b.stop_futility);
}

}  // namespace
}  // namespace avctl
