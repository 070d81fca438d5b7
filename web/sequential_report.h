// The group-sequential part of a report, pure: for each test of a
// sequential sweep, where and why it stopped (efficacy, futility, or
// accepted at the last look), the boundary it crossed or was held to, the
// pairs it used against the fixed design's, and, since the mean after an
// early stop is biased, the final p-value, median-unbiased estimate and
// confidence interval under the stage-wise ordering
// (common/sequential_analysis.h, as rpact's getAnalysisResults), with the
// repeated confidence interval at every look it was tested; and the jobs
// that were not needed, with the compute they would have taken.
//
// Each test's design is the one the coordinator tested it with
// (common/sequential_family.h): the pairs it actually had at its tested
// looks, the planned ones after, at its share of alpha then.
#pragma once

#include <string>
#include <vector>

#include "common/sequential_analysis.h"
#include "web/report_analysis.h"
#include "web/report_data.h"

namespace avctl {

struct SequentialLookInterval {
  int look = 0;  // 0-based
  int pairs = 0;
  RepeatedInterval rci;  // in the metric's units, tested direction
};

struct SequentialTestReport {
  LookTest last;            // the test after the last analysed look
  bool decided = false;     // last.decision != "continue"
  int stop_look = -1;       // 0-based look of the decision (or the last analysed)
  int pairs_used = 0;       // its pairs there
  int pairs_fixed = 0;      // the design's last look
  double p = 1;             // the paired t-test's one-sided p there
  double bound_p = 0;       // the nominal level it was held to there
  double t = 0, t_bound = 0;  // its t and the bound on the t scale
  double mean = 0, sd = 0;  // mean and sd of the paired differences there (tested direction)
  bool percent = true;      // the metric lies in [0, 1]
  StagewiseAnalysis final;  // for a decided test (efficacy, futility or accepted)
  std::vector<SequentialLookInterval> intervals;  // at each look it was tested
};

struct SequentialReport {
  bool present = false;      // the sweep is group-sequential
  std::string design;        // "looks at 5, 10, 15, 20 pairs; O'Brien-Fleming-type alpha spending; ..."
  int looks_analysed = 0, looks_planned = 0;
  std::vector<SequentialTestReport> tests;
  int jobs_not_needed = 0;
  double seconds_saved = 0;  // not-needed jobs x the mean compute time of their group's runs
  int overrun = 0;           // results of a group's stages past its last decision (speculative release)
  std::string error;         // why the analysis could not be made ("" when it was)
};

SequentialReport AnalyseSequential(const ReportData& data, const ReportAnalysis& analysis);

}  // namespace avctl
