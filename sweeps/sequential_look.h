// One analysed look of a group-sequential sweep, as the record keeps it
// (table sequential_looks) and the report and `sweep status` read it: each
// comparison's data at the look (matched pairs, the paired t-test's
// one-sided p and t in the tested direction) and its state after it. The
// data is what the coordinator replays after a restart, so the decisions of
// looks already analysed never change. One typed home: parse and write here.
//
//   {"look": 1, "planned_pairs": 10,
//    "tests": [{"kind": "comparison", "variant": "ladder_av", "baseline": "backbone_av",
//               "metric": "macro_f1", "direction": "greater", "pairs": 10, "p": 0.0012,
//               "t": 4.1, "tested": true, "decision": "efficacy", "decided_look": 1,
//               "level": 0.025, "bound_p": 0.0051}]}
//
// t may be "inf" or "-inf" (zero variance). Pure code.
#pragma once

#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

struct LookTest {
  std::string kind = "comparison";  // or "ablation"
  std::string variant, baseline;    // group labels ("v [point]")
  std::string metric = "macro_f1";
  std::string direction = "greater";
  int pairs = 0;
  double p = 1;
  double t = 0;
  bool tested = false;              // new pairs were tested at this look
  std::string decision = "continue";  // after this look: continue, efficacy, futility, accepted
  int decided_look = -1;
  double level = 0;                 // its share of alpha after this look
  double bound_p = 0;               // the nominal level it was last tested against
};

struct SequentialLook {
  int look = 0;           // 0-based
  int planned_pairs = 0;  // the design's pairs at this look
  std::vector<LookTest> tests;
};

Json SequentialLookToJson(const SequentialLook& look);
// Errors name the field ("look.tests[1].p").
Result<SequentialLook> ParseSequentialLook(const Json& j, const std::string& path = "look");

}  // namespace avctl
