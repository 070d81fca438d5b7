// `avctl sweep plan`: how many seeds each comparison of a spec needs, from
// the paired differences a pilot sweep observed, before the full sweep is
// submitted. Pure: the pilot arrives analysed (web/report_analysis.h), the
// plan leaves as rows and text.
#pragma once

#include <string>
#include <vector>

#include "common/power.h"
#include "sweeps/sweep_spec.h"
#include "web/report_analysis.h"

namespace avctl::cli {

struct PlannedComparison {
  std::string variant, baseline, metric;
  bool in_pilot = false;      // the pilot has matched pairs of this comparison
  SeedPlan pilot;             // at the pilot's n, the spec's alpha and family
  int spec_pairs = 0;         // pairs the spec will give (seeds x partitions)
  double power_at_spec = 0;   // at the spec's pairs, Holm's worst case: observed diff
  double power_min_effect_at_spec = 0;  // the same for min_effect (0 when none)
};

struct SweepPlan {
  std::string spec_name, pilot_name;
  double alpha = 0.05;
  int family = 0;  // tests in the spec's Holm family (comparisons x baselines, plus untested ablations)
  std::vector<PlannedComparison> rows;
};

// The spec's family is the report's: every (variant, baseline) of its
// comparisons, then each ablation variant against the proposed one when no
// comparison covers it.
SweepPlan PlanSweep(const SweepSpec& spec, const ReportAnalysis& pilot, const std::string& pilot_name);

std::string RenderSweepPlan(const SweepPlan& plan);

// While a sweep runs: the report's data rebuilt from the control API's
// status (variants, comparisons, alpha) and results (test metrics per job),
// so that `sweep status` can show each comparison's power so far.
ReportData ReportDataFromControl(const Json& status, const Json& results);

// One line per comparison: pairs so far, observed difference, the power to
// detect it and the smallest difference detectable at 80% (Holm's worst case).
std::string RenderPowerSoFar(const ReportAnalysis& a);
Json PowerSoFarJson(const ReportAnalysis& a);

}  // namespace avctl::cli
