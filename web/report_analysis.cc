#include "web/report_analysis.h"

#include <cmath>
#include <set>

namespace avctl {

namespace {

std::string GroupLabel(const std::string& variant, const std::string& point) {
  return point.empty() ? variant : variant + " [" + point + "]";
}

MetricSummary Summarise(const std::vector<double>& xs) {
  MetricSummary s;
  s.n = static_cast<int>(xs.size());
  if (xs.empty()) return s;
  for (double x : xs) s.mean += x;
  s.mean /= static_cast<double>(xs.size());
  if (xs.size() > 1) {
    double ss = 0;
    for (double x : xs) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(xs.size() - 1));
  }
  return s;
}

std::map<PairKey, double> Values(const ReportData& d, const GroupSummary& g, const std::string& metric) {
  std::map<PairKey, double> out;
  for (const ReportRun* r : RunsOf(d, g)) {
    auto it = r->metrics.find(metric);
    if (r->has_result && it != r->metrics.end()) out[{r->partition, r->seed}] = it->second;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& TableMetrics() {
  static const std::vector<std::string> m = {"macro_precision", "macro_recall", "macro_f1",
                                             "micro_precision", "micro_recall", "micro_f1"};
  return m;
}

std::vector<const ReportRun*> RunsOf(const ReportData& data, const GroupSummary& group) {
  std::vector<const ReportRun*> out;
  for (const auto& r : data.runs) {
    if (r.variant == group.variant && r.point == group.point) out.push_back(&r);
  }
  return out;
}

ReportAnalysis AnalyzeReport(const ReportData& d) {
  ReportAnalysis a;
  a.alpha = d.alpha;
  std::map<std::string, std::string> role;
  for (const auto& v : d.variants) role[v.name] = v.role;
  // Groups in the order their runs appear (the sweep's seed-major order keeps variants in spec order).
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& r : d.runs) {
    if (!seen.insert({r.variant, r.point}).second) continue;
    GroupSummary g;
    g.variant = r.variant;
    g.point = r.point;
    g.label = GroupLabel(r.variant, r.point);
    g.role = role.count(r.variant) ? role[r.variant] : "";
    a.groups.push_back(g);
  }
  for (auto& g : a.groups) {
    std::map<std::string, std::vector<double>> values;
    for (const ReportRun* r : RunsOf(d, g)) {
      ++g.runs;
      if (r->state == "done") ++g.done;
      if (r->state == "failed") ++g.failed;
      if (!r->has_result) continue;
      for (const auto& [k, v] : r->metrics) values[k].push_back(v);
    }
    for (const auto& [k, xs] : values) g.metrics[k] = Summarise(xs);
  }
  auto groups_of = [&](const std::string& variant) {
    std::vector<const GroupSummary*> out;
    for (const auto& g : a.groups) {
      if (g.variant == variant) out.push_back(&g);
    }
    return out;
  };
  auto add = [&](const std::string& kind, const GroupSummary& x, const GroupSummary& y, const std::string& metric,
                 Tail tail, double min_effect) {
    ComparisonResult c;
    c.min_effect = min_effect;
    c.kind = kind;
    c.variant = x.label;
    c.baseline = y.label;
    c.metric = metric;
    c.tail = tail;
    c.pairs = MatchPairs(Values(d, x, metric), Values(d, y, metric));
    c.t = PairedTTestOneTailed(c.pairs.x, c.pairs.y, tail);
    c.wilcoxon = WilcoxonSignedRank(c.pairs.x, c.pairs.y, tail);
    a.comparisons.push_back(std::move(c));
  };
  std::set<std::pair<std::string, std::string>> done_pairs;
  for (const auto& spec : d.comparisons) {
    const Tail tail = ParseTail(spec.direction).value_or(Tail::kGreater);
    for (const auto& b : spec.baselines) {
      auto bases = groups_of(b);
      for (const GroupSummary* x : groups_of(spec.variant)) {
        for (const GroupSummary* y : bases) {
          if (bases.size() > 1 && y->point != x->point) continue;  // swept baselines: same point only
          add("comparison", *x, *y, spec.metric, tail, spec.min_effect);
          done_pairs.insert({spec.variant, b});
        }
      }
    }
  }
  // Ablations against the proposed variant, when the spec does not test them.
  std::string proposed;
  for (const auto& v : d.variants) {
    if (v.role == "proposed") {
      proposed = v.name;
      break;
    }
  }
  if (!proposed.empty()) {
    auto props = groups_of(proposed);
    for (const auto& v : d.variants) {
      if (v.role != "ablation" || done_pairs.count({proposed, v.name})) continue;
      for (const GroupSummary* y : groups_of(v.name)) {
        for (const GroupSummary* x : props) {
          if (props.size() > 1 && x->point != y->point) continue;
          add("ablation", *x, *y, "macro_f1", Tail::kGreater, 0);
        }
      }
    }
  }
  std::vector<double> ps;
  for (const auto& c : a.comparisons) ps.push_back(c.t.p);
  std::vector<double> holm = HolmAdjust(ps);
  for (size_t i = 0; i < a.comparisons.size(); ++i) {
    auto& c = a.comparisons[i];
    c.p_holm = holm[i];
    c.significant = c.t.defined && c.p_holm < a.alpha;
    c.significant_raw = c.t.defined && c.t.p < a.alpha;
    const double observed = c.tail == Tail::kGreater ? c.t.mean_diff : -c.t.mean_diff;
    c.plan = PlanSeeds(c.t.n, observed, c.t.sd_diff, a.alpha, static_cast<int>(a.comparisons.size()), c.min_effect);
  }
  return a;
}

}  // namespace avctl
