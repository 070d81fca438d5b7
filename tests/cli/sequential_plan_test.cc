#include "cli/sequential_plan.h"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/cli/pilot_fixture.h"

namespace avctl::cli {
namespace {

// A pilot of 5 seeds whose paired differences (ladder_av - backbone) have
// mean 0.006 and sd 0.01: an effect of 0.6 sd; the ablation equals ladder_av.
ReportData Pilot() {
  std::vector<double> differences;
  for (double wiggle : {-1, 0, 1, 0, 0}) differences.push_back(0.01 * (0.6 + wiggle * std::sqrt(2.0)));  // sd 1
  return PilotWithDifferences(differences);
}

SweepSpec Spec(const Json& sequential) {
  Json j = {{"name", "full"},
            {"dataset", {{"store", "x"}}},
            {"seeds", 20},
            {"variants",
             {{{"name", "ladder_av"}, {"role", "proposed"}},
              {{"name", "backbone"}, {"role", "baseline"}},
              {{"name", "ladder_no_cross"}, {"role", "ablation"}}}},
            {"comparisons", {{{"variant", "ladder_av"}, {"baselines", {"backbone"}}}}},
            {"sequential", sequential}};
  auto s = ParseSweepSpec(j, "full.json");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

// Reference: rpact 3.3.4, the design at alpha / 2 (a family of two tests)
// and the power of a one-sample mean test with the normal approximation:
//   for (fut in c(FALSE, TRUE)) {
//     d <- if (fut) getDesignGroupSequential(kMax = 4, alpha = 0.025, sided = 1, typeOfDesign = "asOF",
//                                            typeBetaSpending = "bsOF", beta = 0.2, bindingFutility = FALSE)
//          else getDesignGroupSequential(kMax = 4, alpha = 0.025, sided = 1, typeOfDesign = "asOF")
//     for (eff in c(0, 0.6)) {
//       p <- getPowerMeans(d, groups = 1, alternative = eff, stDev = 1, maxNumberOfSubjects = 20,
//                          normalApproximation = TRUE)
//       print(c(p$overallReject, p$expectedNumberOfSubjects))
//     }
//   }
TEST(SequentialPlan, PowerAndExpectedPairsFromThePilotEqualRpact) {
  const ReportAnalysis pilot = AnalyzeReport(Pilot());
  struct Case {
    Json sequential;
    double null_reject, null_pairs, reject, pairs;
  };
  for (const Case& c : std::vector<Case>{
           {{{"looks", {5, 10, 15, 20}}}, 0.02500000033, 19.9440899, 0.757009684, 16.82726837},
           {{{"looks", {5, 10, 15, 20}}, {"futility", "non_binding"}}, 0.02141447559, 10.6174131, 0.7110661751,
            15.2314567}}) {
    auto d = DesignSweep(Spec(c.sequential), &pilot, "pilot");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->family, 2);
    EXPECT_DOUBLE_EQ(d->design.spec.alpha, 0.025);
    ASSERT_EQ(d->rows.size(), 2u);
    const DesignedComparison& r = d->rows[0];
    ASSERT_TRUE(r.in_pilot) << c.sequential.dump();
    EXPECT_NEAR(r.effect, 0.6, 1e-9);
    EXPECT_NEAR(r.power, c.reject, 1e-6) << c.sequential.dump();
    EXPECT_NEAR(r.expected_pairs, c.pairs, 1e-5) << c.sequential.dump();
    EXPECT_NEAR(r.null_reject, c.null_reject, 1e-6) << c.sequential.dump();
    EXPECT_NEAR(r.null_expected_pairs, c.null_pairs, 1e-5) << c.sequential.dump();
    EXPECT_GT(r.fixed_power, r.power - 0.05);
    EXPECT_FALSE(d->rows[1].in_pilot);  // the ablation's differences are all zero: no effect size
    const std::string text = RenderSweepDesign(*d);
    EXPECT_NE(text.find("0.025 per comparison"), std::string::npos) << text;
    EXPECT_NE(text.find("From pilot pilot"), std::string::npos) << text;
    const Json j = SweepDesignJson(*d);
    EXPECT_EQ(j["looks"].size(), 4u);
    EXPECT_EQ(j["comparisons"][0]["power"].get<double>(), r.power);
  }
}

TEST(SequentialPlan, ASpecWithoutLooksIsRefusedNamingTheField) {
  auto s = ParseSweepSpec(Json{{"name", "x"}, {"dataset", {{"store", "x"}}}, {"seeds", 3},
                               {"variants", {{{"name", "backbone"}}}}},
                          "x.json");
  ASSERT_TRUE(s.ok());
  auto d = DesignSweep(*s, nullptr, "");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().field(), "sequential");
  auto bounds_only = DesignSweep(Spec(Json{{"looks", {10, 20}}}), nullptr, "");
  ASSERT_TRUE(bounds_only.ok());
  EXPECT_EQ(RenderSweepDesign(*bounds_only).find("From pilot"), std::string::npos);
}

}  // namespace
}  // namespace avctl::cli
