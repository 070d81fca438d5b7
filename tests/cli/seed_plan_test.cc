#include "cli/seed_plan.h"

#include <gtest/gtest.h>

#include "tests/cli/pilot_fixture.h"

namespace avctl::cli {
namespace {

// A pilot of 5 seeds: ladder_av beats backbone by 0.02 + 0.01 * (-1, 0, 1, 0, 0)
// (mean 0.02, sd of differences 0.01 / sqrt(2)), and equals the ablation exactly.
ReportData Pilot() {
  std::vector<double> differences;
  for (double wiggle : {-1, 0, 1, 0, 0}) differences.push_back(0.02 + 0.01 * wiggle);
  return PilotWithDifferences(differences);
}

SweepSpec Spec(int seeds, double min_effect) {
  Json j = {{"name", "full"},
            {"dataset", {{"store", "x"}}},
            {"seeds", seeds},
            {"variants",
             {{{"name", "ladder_av"}, {"role", "proposed"}},
              {{"name", "backbone"}, {"role", "baseline"}},
              {{"name", "ladder_no_cross"}, {"role", "ablation"}}}},
            {"comparisons", {{{"variant", "ladder_av"}, {"baselines", {"backbone"}}}}}};
  if (min_effect > 0) j["comparisons"][0]["min_effect"] = min_effect;
  auto s = ParseSweepSpec(j, "full.json");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

TEST(SeedPlanTest, PlansEachComparisonOfTheSpecsFamilyFromThePilot) {
  const ReportAnalysis pilot = AnalyzeReport(Pilot());
  const SweepPlan plan = PlanSweep(Spec(20, 0.01), pilot, "pilot");
  EXPECT_EQ(plan.family, 2);  // the comparison and the untested ablation
  ASSERT_EQ(plan.rows.size(), 2u);
  const PlannedComparison& c = plan.rows[0];
  EXPECT_EQ(c.baseline, "backbone");
  ASSERT_TRUE(c.in_pilot);
  EXPECT_EQ(c.pilot.n, 5);
  EXPECT_NEAR(c.pilot.observed, 0.02, 1e-12);
  EXPECT_NEAR(c.pilot.sd, 0.007071067811865475, 1e-12);
  EXPECT_DOUBLE_EQ(c.pilot.alpha_holm, 0.025);
  EXPECT_EQ(c.pilot.pairs_holm, PairsNeeded(0.02, c.pilot.sd, 0.025));
  EXPECT_EQ(c.pilot.pairs_min_effect_holm, PairsNeeded(0.01, c.pilot.sd, 0.025));
  EXPECT_EQ(c.spec_pairs, 20);
  EXPECT_NEAR(c.power_min_effect_at_spec, PairedTTestPower(0.01, c.pilot.sd, 20, 0.025), 1e-12);
  // The ablation equals the proposed model in the pilot: no count of pairs detects a zero difference.
  const PlannedComparison& ab = plan.rows[1];
  EXPECT_EQ(ab.baseline, "ladder_no_cross");
  EXPECT_TRUE(ab.in_pilot);
  EXPECT_EQ(ab.pilot.pairs, 0);
  const std::string text = RenderSweepPlan(plan);
  EXPECT_NE(text.find("Holm family of 2"), std::string::npos);
  EXPECT_NE(text.find("none"), std::string::npos);
}

TEST(SeedPlanTest, ComparisonsMissingFromThePilotAreSaidSo) {
  ReportData d = Pilot();
  d.runs.erase(std::remove_if(d.runs.begin(), d.runs.end(), [](const ReportRun& r) { return r.variant == "backbone"; }),
               d.runs.end());
  const SweepPlan plan = PlanSweep(Spec(20, 0), AnalyzeReport(d), "pilot");
  EXPECT_FALSE(plan.rows[0].in_pilot);
  EXPECT_NE(RenderSweepPlan(plan).find("no matched pairs"), std::string::npos);
}

TEST(SeedPlanTest, ControlRepliesRebuildTheReportsPairs) {
  Json status = {{"name", "s"},
                 {"alpha", 0.05},
                 {"variants", {{{"name", "a"}, {"role", "proposed"}}, {{"name", "b"}, {"role", "baseline"}}}},
                 {"comparisons", {{{"variant", "a"}, {"baselines", {"b"}}, {"metric", "macro_f1"}}}}};
  Json results = Json::array();
  for (int seed = 1; seed <= 4; ++seed) {
    results.push_back({{"variant", "a"}, {"seed", seed}, {"partition", 1}, {"metrics", {{"macro_f1", 0.6 + 0.01 * seed}}}});
    results.push_back({{"variant", "b"}, {"seed", seed}, {"partition", 1}, {"metrics", {{"macro_f1", 0.55 + 0.012 * seed}}}});
  }
  const ReportAnalysis a = AnalyzeReport(ReportDataFromControl(status, results));
  ASSERT_EQ(a.comparisons.size(), 1u);
  EXPECT_EQ(a.comparisons[0].plan.n, 4);
  EXPECT_TRUE(a.comparisons[0].plan.defined);
  EXPECT_NE(RenderPowerSoFar(a).find("a vs b: 4 pairs"), std::string::npos);
  EXPECT_EQ(PowerSoFarJson(a)[0]["pairs"], 4);
}

}  // namespace
}  // namespace avctl::cli
