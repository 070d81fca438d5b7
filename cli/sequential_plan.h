// `avctl sweep design`: a sequential sweep's group-sequential design before
// it runs: the bounds of each look (z, nominal one-sided p, paired t at the
// look's degrees of freedom), alpha spent, the futility bounds, and, from a
// pilot sweep's paired differences, each comparison's power and expected
// pairs under the pilot's effect and under no effect, by the same recursion
// the bounds come from (common/crossing_probability.h: the normal
// approximation; sequential_bench simulates the t statistics). Pure: the
// pilot arrives analysed, the design leaves as rows, text and JSON.
#pragma once

#include <string>
#include <vector>

#include "common/sequential_design.h"
#include "common/status.h"
#include "sweeps/sweep_spec.h"
#include "web/report_analysis.h"

namespace avctl::cli {

struct DesignedComparison {
  std::string variant, baseline, metric;
  bool in_pilot = false;  // the pilot has 2 or more matched pairs of it
  int pilot_pairs = 0;
  double effect = 0;      // the pilot's mean difference / sd of differences, in the tested direction
  double power = 0, expected_pairs = 0;            // under the pilot's effect
  double null_reject = 0, null_expected_pairs = 0;  // under no effect
  double fixed_power = 0;  // the fixed design of the last look's pairs at the same level, same effect
};

struct SweepDesign {
  std::string spec_name, pilot_name;
  int family = 1;       // tests in the Holm family; each starts at alpha / family
  int partitions = 1;   // pairs per seed
  SequentialSweep sequential;
  SequentialDesign design;  // at alpha / family (group-sequential Holm's first step)
  std::vector<DesignedComparison> rows;
};

// `pilot` may be null (no pilot: bounds only). Refuses a spec without "sequential".
Result<SweepDesign> DesignSweep(const SweepSpec& spec, const ReportAnalysis* pilot, const std::string& pilot_name);

std::string RenderSweepDesign(const SweepDesign& d);
Json SweepDesignJson(const SweepDesign& d);

}  // namespace avctl::cli
