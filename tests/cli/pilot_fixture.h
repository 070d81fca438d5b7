// A pilot sweep as the report loads it, for the planning tests: seeds 1..N
// of ladder_av (proposed), backbone (baseline) and ladder_no_cross
// (ablation, equal to ladder_av), where backbone's macro F1 on seed s is
// ladder_av's minus differences[s - 1].
#pragma once

#include <string>
#include <vector>

#include "web/report_data.h"

namespace avctl::cli {

inline ReportData PilotWithDifferences(const std::vector<double>& differences) {
  ReportData d;
  d.sweep_name = "pilot";
  d.variants = {{"ladder_av", "proposed", "ladder_av"}, {"backbone", "baseline", "backbone"},
                {"ladder_no_cross", "ablation", "ladder_no_cross"}};
  d.comparisons = {{"ladder_av", {"backbone"}, "macro_f1", "greater", 0}};
  for (uint64_t seed = 1; seed <= differences.size(); ++seed) {
    for (const std::string v : {"ladder_av", "backbone", "ladder_no_cross"}) {
      ReportRun r;
      r.variant = v;
      r.seed = seed;
      r.state = "done";
      r.has_result = true;
      double f1 = 0.6 + 0.01 * static_cast<double>(seed);
      if (v == "backbone") f1 -= differences[seed - 1];
      r.metrics["macro_f1"] = f1;
      d.runs.push_back(r);
    }
  }
  return d;
}

}  // namespace avctl::cli
