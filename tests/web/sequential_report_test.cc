// The report's group-sequential section from a sweep's stored looks: where
// each test stopped, the final p-value, median-unbiased estimate, final and
// repeated confidence intervals (equal to rpact's getAnalysisResults for the
// same data), the jobs not needed, and the section, verdict and export.
#include "web/sequential_report.h"

#include <cmath>

#include <gtest/gtest.h>

#include "web/report_render.h"

namespace avctl {
namespace {

// big - base = 0.02 + 0.01 sin(3.1 seed + 1); big stopped for efficacy at
// look 2 (10 pairs) of looks 5/10/15/20, its seeds 10-19 not needed.
// Reference: rpact 3.3.4 (Rscript; the differences of seeds 0-9 in two stages):
//   s <- 0:9; d <- 0.02 + 0.01 * sin(3.1 * s + 1)
//   des <- getDesignGroupSequential(kMax = 4, alpha = 0.025, sided = 1, typeOfDesign = "asOF")
//   data <- getDataset(n = c(5, 5), means = c(mean(d[1:5]), mean(d[6:10])), stDevs = c(sd(d[1:5]), sd(d[6:10])))
//   r <- getAnalysisResults(design = des, dataInput = data, directionUpper = TRUE, normalApproximation = FALSE)
//   r$finalPValues[2]                     1.491280088e-05
//   r$finalConfidenceIntervalLowerBounds[2], ...UpperBounds[2]   5.627285817e-03 1.515519409e-02
//   r$medianUnbiasedEstimates[2]          1.040326848e-02
//   r$.stageResults$overallPValues[1:2]   2.573575760e-03 8.016094934e-06
//   r$repeatedConfidenceIntervalLowerBounds[1:2]  -0.07633369621  0.01043384495
//   r$repeatedConfidenceIntervalUpperBounds[1:2]   0.11949169482  0.02985012597
// (alpha 0.025: big's share of 0.05 in a family of two tests at that look.)
ReportData Sweep() {
  ReportData d;
  d.sweep_name = "seq";
  d.alpha = 0.05;
  d.variants = {{"big", "proposed", ""}, {"none", "proposed", ""}, {"base", "baseline", ""}};
  d.comparisons = {{"big", {"base"}, "macro_f1", "greater", 0, ""}, {"none", {"base"}, "macro_f1", "greater", 0, ""}};
  SequentialSweep seq;
  seq.design.looks = {5, 10, 15, 20};
  seq.design.alpha = 0.05;
  d.sequential = seq;
  for (int s = 0; s < 20; ++s) {
    d.seed_stage[static_cast<uint64_t>(s)] = s / 5;
    const double base = 0.5 + 0.01 * std::sin(1.7 * s);
    for (const auto& [variant, value] :
         std::vector<std::pair<std::string, double>>{{"base", base},
                                                     {"big", base + 0.02 + 0.01 * std::sin(3.1 * s + 1)},
                                                     {"none", base + 0.01 * std::cos(2.3 * s + 0.4)}}) {
      ReportRun r;
      r.key = variant + "/" + std::to_string(s);
      r.variant = variant;
      r.seed = static_cast<uint64_t>(s);
      r.partition = 1;
      if (variant == "big" && s >= 10) {
        r.state = "not_needed";
      } else {
        r.state = "done";
        r.has_result = true;
        r.seconds = 30;
        r.metrics["macro_f1"] = value;
      }
      d.runs.push_back(r);
    }
  }
  // The coordinator's looks (what sequential_monitor stored): big continues
  // at look 1 and is declared at look 2; none continues at 0.05 after.
  auto test = [](const std::string& v, int pairs, double p, bool tested, const std::string& decision, int decided,
                 double level) {
    LookTest t;
    t.variant = v;
    t.baseline = "base";
    t.pairs = pairs;
    t.p = p;
    t.t = 1;
    t.tested = tested;
    t.decision = decision;
    t.decided_look = decided;
    t.level = level;
    t.bound_p = 2e-4;
    return t;
  };
  d.looks.push_back({0, 5, {test("big", 5, 2.573575760e-03, true, "continue", -1, 0.025),
                            test("none", 5, 0.3, true, "continue", -1, 0.025)}});
  d.looks.push_back({1, 10, {test("big", 10, 8.016094934e-06, true, "efficacy", 1, 0.025),
                             test("none", 10, 0.4, true, "continue", -1, 0.05)}});
  return d;
}

TEST(SequentialReport, AnEarlyEfficacyStopHasRpactsFinalPValueEstimateAndIntervals) {
  const ReportData d = Sweep();
  const SequentialReport s = AnalyseSequential(d, AnalyzeReport(d));
  ASSERT_TRUE(s.present);
  EXPECT_TRUE(s.error.empty()) << s.error;
  EXPECT_EQ(s.looks_analysed, 2);
  EXPECT_EQ(s.looks_planned, 4);
  ASSERT_EQ(s.tests.size(), 2u);
  const SequentialTestReport& big = s.tests[0];
  EXPECT_TRUE(big.decided);
  EXPECT_EQ(big.stop_look, 1);
  EXPECT_EQ(big.pairs_used, 10);
  EXPECT_EQ(big.pairs_fixed, 20);
  EXPECT_NEAR(big.mean, 0.020141965472, 1e-12);
  EXPECT_NEAR(big.sd, 0.007648118594, 1e-11);
  ASSERT_TRUE(big.final.defined);
  EXPECT_NEAR(big.final.p, 1.491280088e-05, 1e-6 * 1.49e-5 + 1e-10);
  EXPECT_NEAR(big.final.ci_low, 5.627285817e-03, 2e-7);
  EXPECT_NEAR(big.final.ci_high, 1.515519409e-02, 2e-7);
  EXPECT_NEAR(big.final.estimate, 1.040326848e-02, 2e-7);
  EXPECT_LT(big.final.estimate, big.mean) << "the naive mean after an early stop is biased upward";
  ASSERT_EQ(big.intervals.size(), 2u);
  EXPECT_NEAR(big.intervals[0].rci.low, -0.07633369621, 2e-6);
  EXPECT_NEAR(big.intervals[0].rci.high, 0.11949169482, 2e-6);
  EXPECT_NEAR(big.intervals[1].rci.low, 0.01043384495, 2e-7);
  EXPECT_NEAR(big.intervals[1].rci.high, 0.02985012597, 2e-7);
  EXPECT_GT(big.t_bound, 0);
  const SequentialTestReport& none = s.tests[1];
  EXPECT_FALSE(none.decided);
  EXPECT_FALSE(none.final.defined) << "no final analysis while it continues";
  EXPECT_EQ(s.jobs_not_needed, 10);
  EXPECT_DOUBLE_EQ(s.seconds_saved, 300) << "10 jobs at big's mean of 30 s";
  EXPECT_EQ(s.overrun, 0);
  EXPECT_NE(s.design.find("looks at 5, 10, 15, 20 pairs; O'Brien-Fleming-type"), std::string::npos) << s.design;
}

TEST(SequentialReport, TheSectionVerdictAndExportSayWhereItStoppedAndWhatIsNotAdjusted) {
  const ReportData d = Sweep();
  const auto files = RenderReport(d, AnalyzeReport(d));
  const std::string& html = files.at("index.html");
  EXPECT_NE(html.find("<h2>Group-sequential looks</h2>"), std::string::npos);
  EXPECT_NE(html.find("efficacy at look 2 of 4"), std::string::npos);
  EXPECT_NE(html.find("10 / 20"), std::string::npos);
  EXPECT_NE(html.find("continues (look 2 of 4 so far)"), std::string::npos);
  EXPECT_NE(html.find("Group-sequential: big beats base on macro_f1 at look 2 of 4, with 10 of 20 pairs; final p = "
                      "1.5e-05 (stage-wise), median-unbiased estimate +1.04 pp [+0.56, +1.52]"),
            std::string::npos)
      << html.substr(html.find("Verdict"), 1200);
  EXPECT_NE(html.find("10 job(s) were not needed: the comparisons they would have served were decided, and their "
                      "seeds never ran (about 300 compute seconds"),
            std::string::npos);
  EXPECT_NE(html.find("not adjusted for the interim looks"), std::string::npos);
  auto json = ParseJson(files.at("table.json"), "table.json");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  const Json& t = (*json)["sequential"]["tests"][0];
  EXPECT_EQ(t["decision"], "efficacy");
  EXPECT_EQ(t["stop_look"], 2);
  EXPECT_NEAR(t["final"]["estimate"].get<double>(), 1.040326848e-02, 2e-7);
  EXPECT_EQ((*json)["sequential"]["jobs_not_needed"], 10);
  // A fixed sweep's report has no such section.
  ReportData fixed = Sweep();
  fixed.sequential.reset();
  fixed.looks.clear();
  const auto plain = RenderReport(fixed, AnalyzeReport(fixed));
  EXPECT_EQ(plain.at("index.html").find("Group-sequential"), std::string::npos);
  EXPECT_FALSE(ParseJson(plain.at("table.json"), "t")->contains("sequential"));
}

TEST(SequentialReport, ResultsPastADecisionAreCountedAsOverrun) {
  ReportData d = Sweep();
  // Speculative release: big's seeds 10-12 had started before its decision and finished.
  for (auto& r : d.runs) {
    if (r.variant == "big" && r.seed >= 10 && r.seed <= 12) {
      r.state = "done";
      r.has_result = true;
      r.seconds = 30;
      r.metrics["macro_f1"] = 0.52;
    }
  }
  const SequentialReport s = AnalyseSequential(d, AnalyzeReport(d));
  // big is decided and in no open test: its three results past look 2 are
  // overrun; base is still under test (none continues), so none of its are.
  EXPECT_EQ(s.overrun, 3);
  EXPECT_EQ(s.jobs_not_needed, 7);
  ReportData decided = d;
  decided.looks[1].tests[1].decision = "futility";
  decided.looks[1].tests[1].decided_look = 1;
  const SequentialReport t = AnalyseSequential(decided, AnalyzeReport(decided));
  EXPECT_EQ(t.overrun, 3 + 2 * 10) << "big's 3, and none's and base's seeds 10-19 past their last decision";
  EXPECT_EQ(s.tests[0].pairs_used, 10) << "overrun results never enter the decision's look";
}

}  // namespace
}  // namespace avctl
