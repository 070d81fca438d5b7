#include "web/sequential_report.h"

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "common/paired_stats.h"
#include "common/sequential_family.h"

namespace avctl {

namespace {

std::string DesignText(const SequentialSweep& s, int tests, double alpha) {
  std::string looks;
  for (int n : s.design.looks) looks += (looks.empty() ? "" : ", ") + std::to_string(n);
  return fmt::format(
      "looks at {} pairs; {}-type alpha spending (Lan-DeMets){}; {}; {} release; group-sequential Holm over {} "
      "test(s) at one-sided α = {}",
      looks, s.design.spending == AlphaSpending::kOBrienFleming ? "O'Brien-Fleming" : "Pocock",
      s.design.futility ? fmt::format("; non-binding futility bounds (β = {})", s.design.beta) : "",
      s.design.strict ? "strict t bounds (calibrated on simulated null paths: type I error at most α)"
                      : "nominal levels applied to the paired t-test's p (rpact's rule)",
      s.release == StageRelease::kHeld ? "held" : "speculative", tests, alpha);
}

struct Diffs {
  int n = 0;
  double mean = 0, sd = 0;
};

}  // namespace

SequentialReport AnalyseSequential(const ReportData& d, const ReportAnalysis& a) {
  SequentialReport out;
  if (!d.sequential) return out;
  out.present = true;
  const SequentialSweep& seq = *d.sequential;
  out.looks_planned = static_cast<int>(seq.design.looks.size());
  out.looks_analysed = static_cast<int>(d.looks.size());
  const size_t m = d.looks.empty() ? 0 : d.looks.front().tests.size();
  out.design = DesignText(seq, static_cast<int>(m), d.alpha);
  auto stage_of = [&](uint64_t seed) {
    auto it = d.seed_stage.find(seed);
    return it == d.seed_stage.end() ? out.looks_planned : it->second;
  };
  std::map<std::string, const GroupSummary*> by_label;
  for (const auto& g : a.groups) by_label[g.label] = &g;
  std::map<std::string, bool> percent;
  for (const auto& c : a.columns) percent[c.name] = c.percent;
  // The paired differences of x - y (tested direction) over stages 0..look.
  auto diffs = [&](const GroupSummary& x, const GroupSummary& y, const std::string& metric, bool greater, int look) {
    std::map<PairKey, double> xs, ys;
    for (const ReportRun& r : d.runs) {
      if (!r.has_result || stage_of(r.seed) > look) continue;
      auto it = r.metrics.find(metric);
      if (it == r.metrics.end()) continue;
      if (r.variant == x.variant && r.point == x.point) xs[{r.partition, r.seed}] = it->second;
      if (r.variant == y.variant && r.point == y.point) ys[{r.partition, r.seed}] = it->second;
    }
    const MatchedPairs p = MatchPairs(xs, ys);
    const PairedTTest t = PairedTTestOneTailed(p.x, p.y, greater ? Tail::kGreater : Tail::kLess);
    return Diffs{t.n, greater ? t.mean_diff : -t.mean_diff, t.sd_diff};
  };
  SequentialDesignCache designs;
  for (size_t i = 0; i < m; ++i) {
    SequentialTestReport r;
    r.last = d.looks.back().tests[i];
    r.decided = r.last.decision != "continue";
    r.percent = !percent.count(r.last.metric) || percent[r.last.metric];
    r.pairs_fixed = seq.design.looks.back();
    const int stop = r.decided ? r.last.decided_look : out.looks_analysed - 1;
    r.stop_look = stop;
    auto x = by_label.find(r.last.variant), y = by_label.find(r.last.baseline);
    const bool greater = r.last.direction != "less";
    std::vector<int> tested_pairs;
    const SequentialDesign* stop_design = nullptr;
    int stop_index = -1;
    Diffs stop_diffs;
    for (int j = 0; j <= stop && j < out.looks_analysed; ++j) {
      const LookTest& lt = d.looks[static_cast<size_t>(j)].tests[i];
      if (!lt.tested) continue;
      tested_pairs.push_back(lt.pairs);
      SequentialDesignSpec spec = seq.design;
      spec.alpha = lt.level;
      spec.looks = tested_pairs;
      for (size_t k = static_cast<size_t>(j) + 1; k < seq.design.looks.size(); ++k) spec.looks.push_back(seq.design.looks[k]);
      auto design = designs.Get(spec);
      if (!design.ok()) {
        out.error = fmt::format("{} vs {} at look {}: {}", lt.variant, lt.baseline, j + 1, design.status().ToString());
        continue;
      }
      const int index = static_cast<int>(tested_pairs.size()) - 1;
      Diffs dd;
      if (x != by_label.end() && y != by_label.end()) dd = diffs(*x->second, *y->second, lt.metric, greater, j);
      SequentialLookInterval li;
      li.look = j;
      li.pairs = lt.pairs;
      if (dd.n >= 2) li.rci = RepeatedConfidenceInterval(**design, index, dd.n, dd.mean, dd.sd, true);
      r.intervals.push_back(li);
      stop_design = *design;
      stop_index = index;
      stop_diffs = dd;
      r.pairs_used = lt.pairs;
      r.p = lt.p;
      r.t = lt.t;
      r.bound_p = lt.bound_p;
    }
    if (stop_design != nullptr) {
      r.t_bound = stop_design->efficacy_t[static_cast<size_t>(stop_index)];
      r.mean = stop_diffs.mean;
      r.sd = stop_diffs.sd;
      if (r.decided && stop_diffs.n >= 2) {
        r.final = AnalyseStagewise(*stop_design, stop_index, r.p, stop_diffs.n, stop_diffs.mean, stop_diffs.sd);
      }
    }
    out.tests.push_back(std::move(r));
  }
  // Jobs not needed, and what they would have cost at their group's mean compute time.
  std::map<std::pair<std::string, std::string>, std::pair<double, int>> time;  // group -> (seconds, results)
  for (const ReportRun& r : d.runs) {
    if (!r.has_result) continue;
    auto& t = time[{r.variant, r.point}];
    t.first += r.seconds;
    ++t.second;
  }
  // A group past its last decision: later results are overrun.
  std::map<std::string, int> decided_at;  // group label -> last decided look, when all its tests are decided
  std::map<std::string, bool> open;
  for (const auto& t : out.tests) {
    for (const std::string& label : {t.last.variant, t.last.baseline}) {
      if (!t.decided) open[label] = true;
      decided_at[label] = std::max(decided_at.count(label) ? decided_at[label] : -1, t.last.decided_look);
    }
  }
  for (const ReportRun& r : d.runs) {
    const std::string label = GroupLabel(r.variant, r.point);
    if (r.state == "not_needed") {
      ++out.jobs_not_needed;
      auto it = time.find({r.variant, r.point});
      if (it != time.end() && it->second.second > 0) out.seconds_saved += it->second.first / it->second.second;
    } else if (r.has_result && decided_at.count(label) && !open.count(label) && stage_of(r.seed) > decided_at[label]) {
      ++out.overrun;
    }
  }
  return out;
}

}  // namespace avctl
