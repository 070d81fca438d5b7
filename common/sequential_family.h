// A family of comparisons tested at the same interim looks with
// group-sequential Holm (Maurer & Bretz 2013, Holm's graph): each undecided
// comparison is tested with the sweep's design at its current level, which
// starts at alpha / m; when one is rejected, its level passes to the
// undecided rest (alpha / (m - r) each, r rejected), which are re-tested at
// the same look with the freed level, and later looks use it. A comparison
// stopped for futility keeps its level (nothing passes on: conservative).
//
// Information actually reached: a look's bounds come from the design whose
// looks are the pairs each comparison actually had at its analysed looks
// (pairs lost to jobs that failed for good lower them) and the planned
// pairs after; at the last look all remaining alpha is spent. So a failed
// job never hangs a look: the look is analysed with the pairs it has.
//
// Pure and deterministic: the same inputs in the same order give the same
// decisions (a coordinator restart mid-look re-derives them).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/sequential_design.h"
#include "common/status.h"

namespace avctl {

enum class SequentialDecision { kContinue, kEfficacy, kFutility, kAccepted };
const char* SequentialDecisionName(SequentialDecision d);  // "continue", "efficacy", "futility", "accepted"

// One comparison's data at a look: its matched pairs so far and the paired
// t-test's one-sided p and t statistic in the tested direction.
struct LookData {
  int pairs = 0;
  double p = 1;
  double t = 0;
};

struct ComparisonState {
  SequentialDecision decision = SequentialDecision::kContinue;
  int decided_look = -1;       // 0-based look of the decision; -1: none yet
  double level = 0;            // its current share of alpha
  std::vector<int> pairs;      // pairs at each analysed look
  double bound_p = 0;          // the nominal p it was tested against at its last analysis
};

// Designs by looks and level, made once: a family re-derives the same few
// designs at every look (and strict designs take a second each). One cache
// may serve many families (simulations, several sweeps) and threads (the
// coordinator makes strict designs off its loop); a design, once in, stays
// at the same address for the cache's life.
class SequentialDesignCache {
 public:
  Result<const SequentialDesign*> Get(const SequentialDesignSpec& spec);

 private:
  std::mutex mu_;  // guards designs_; a design is made outside it
  std::map<std::string, SequentialDesign> designs_;
};

class SequentialFamily {
 public:
  // `design.alpha` is the family's alpha; `m` comparisons; `cache` (not
  // owned, outlives the family) may be shared, else the family keeps its own.
  SequentialFamily(SequentialDesignSpec design, int m, SequentialDesignCache* cache = nullptr);

  // Analyses look `look` (0-based, in order) with data for every comparison
  // (ignored for those already decided). Errors: looks out of order, a
  // size mismatch, pairs that do not grow.
  Status AnalyseLook(int look, const std::vector<LookData>& data);

  const std::vector<ComparisonState>& comparisons() const { return states_; }
  int looks_analysed() const { return next_look_; }
  bool all_decided() const;

 private:
  // The design of a comparison with these pairs at its analysed looks (the
  // current one last), the planned looks after, at `level`.
  Result<const SequentialDesign*> DesignFor(const std::vector<int>& pairs_so_far, double level);

  SequentialDesignSpec spec_;
  std::vector<ComparisonState> states_;
  int next_look_ = 0;
  std::unique_ptr<SequentialDesignCache> own_cache_;  // when none was given; stable when the family moves
  SequentialDesignCache* cache_;
};

}  // namespace avctl
