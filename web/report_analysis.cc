#include "web/report_analysis.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/emotions.h"
#include "common/random.h"

namespace avctl {

std::string GroupLabel(const std::string& variant, const std::string& point) {
  return point.empty() ? variant : variant + " [" + point + "]";
}

std::vector<FamilyTest> SpecFamily(const SweepSpec& spec) {
  std::vector<ReportComparison> comparisons;
  for (const auto& c : spec.comparisons) comparisons.push_back({c.variant, c.baselines, c.metric, c.direction, c.min_effect, c.point});
  std::vector<ReportVariant> variants;
  for (const auto& v : spec.variants) variants.push_back({v.name, v.role, v.variant});
  return ComparisonFamily(comparisons, variants);
}

std::vector<GroupTest> FamilyGroupTests(const std::vector<FamilyTest>& family, const std::vector<GroupKey>& groups) {
  auto groups_of = [&](const std::string& variant) {
    std::vector<const GroupKey*> out;
    for (const auto& g : groups) {
      if (g.variant == variant) out.push_back(&g);
    }
    return out;
  };
  std::vector<GroupTest> out;
  for (const FamilyTest& f : family) {
    auto xs = groups_of(f.variant);
    const auto ys = groups_of(f.baseline);
    if (!f.variant_point.empty()) {
      // The named point only; a baseline swept too is then matched on it.
      xs.erase(std::remove_if(xs.begin(), xs.end(), [&](const GroupKey* g) { return g->point != f.variant_point; }),
               xs.end());
    }
    for (const GroupKey* x : xs) {
      for (const GroupKey* y : ys) {
        // A swept side is compared point by point with the other side's same point.
        const bool swept = f.kind == "comparison" ? ys.size() > 1 : xs.size() > 1;
        if (swept && x->point != y->point) continue;
        out.push_back({f, *x, *y});
      }
    }
  }
  return out;
}

namespace {

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

// A side's values by partition, for the stratified bootstrap.
Strata ByPartition(const std::map<PairKey, double>& values) {
  std::map<int, std::vector<double>> by;
  for (const auto& [key, v] : values) by[key.first].push_back(v);
  Strata out;
  for (auto& [partition, vs] : by) out.push_back(std::move(vs));
  return out;
}

// Both sides' values of the matched pairs, stratum by stratum (partition).
std::pair<Strata, Strata> PairsByPartition(const MatchedPairs& pairs) {
  std::map<int, std::pair<std::vector<double>, std::vector<double>>> by;
  for (size_t i = 0; i < pairs.keys.size(); ++i) {
    by[pairs.keys[i].first].first.push_back(pairs.x[i]);
    by[pairs.keys[i].first].second.push_back(pairs.y[i]);
  }
  std::pair<Strata, Strata> out;
  for (auto& [partition, xy] : by) {
    out.first.push_back(std::move(xy.first));
    out.second.push_back(std::move(xy.second));
  }
  return out;
}

// Each comparison's effect sizes, seeded by what it compares so that a
// report shows the same intervals every time it is rendered.
void AddEffectSizes(const std::map<PairKey, double>& x, const std::map<PairKey, double>& y, ComparisonResult* c) {
  BootstrapOptions o;
  o.reps = kEffectSizeReps;
  o.seed = DeriveSeed(0, c->variant + "\n" + c->baseline + "\n" + c->metric);
  const Strata sx = ByPartition(x), sy = ByPartition(y);
  const auto [px, py] = PairsByPartition(c->pairs);
  c->paired_wins = PairedProbabilityOfImprovementInterval(px, py, c->tail, o);
  c->improvement = ProbabilityOfImprovementInterval(sx, sy, c->tail, o);
  c->iqm_variant = InterquartileMeanInterval(sx, o);
  c->iqm_baseline = InterquartileMeanInterval(sy, o);
}

}  // namespace

const std::vector<std::string>& TableMetrics() {
  static const std::vector<std::string> m = {"macro_precision", "macro_recall", "macro_f1",
                                             "micro_precision", "micro_recall", "micro_f1"};
  return m;
}

namespace {

std::string ColumnLabel(const std::string& metric) {
  static const std::map<std::string, std::string> known = {
      {"macro_precision", "Macro Prec"}, {"macro_recall", "Macro Rec"}, {"macro_f1", "Macro F1"},
      {"micro_precision", "Micro Prec"}, {"micro_recall", "Micro Rec"}, {"micro_f1", "Micro F1"},
      {"accuracy", "Accuracy"},          {"uar", "UAR"},                {"war", "WAR"}};
  auto it = known.find(metric);
  return it == known.end() ? metric : it->second;
}

}  // namespace

std::vector<MetricColumn> ReportColumns(const ReportData& d) {
  std::map<std::string, bool> unit;  // metric -> every value in [0, 1]
  for (const auto& r : d.runs) {
    if (!r.has_result) continue;
    for (const auto& [k, v] : r.metrics) {
      auto [it, fresh] = unit.emplace(k, true);
      it->second = it->second && v >= 0 && v <= 1;
    }
  }
  std::vector<MetricColumn> out;
  const bool paper = std::all_of(TableMetrics().begin(), TableMetrics().end(),
                                 [&](const std::string& m) { return unit.count(m) != 0; });
  if (paper || unit.empty()) {
    for (const auto& m : TableMetrics()) out.push_back({m, ColumnLabel(m), !unit.count(m) || unit[m]});
    return out;
  }
  std::set<std::string> placed;
  for (const auto& c : d.comparisons) {
    if (unit.count(c.metric) && placed.insert(c.metric).second) out.push_back({c.metric, ColumnLabel(c.metric), unit[c.metric]});
  }
  for (const auto& [m, in_unit] : unit) {
    if (placed.insert(m).second) out.push_back({m, ColumnLabel(m), in_unit});
  }
  return out;
}

std::vector<const ReportRun*> RunsOf(const ReportData& data, const GroupSummary& group) {
  std::vector<const ReportRun*> out;
  for (const auto& r : data.runs) {
    if (r.variant == group.variant && r.point == group.point) out.push_back(&r);
  }
  return out;
}

std::vector<FamilyTest> ComparisonFamily(const std::vector<ReportComparison>& comparisons,
                                         const std::vector<ReportVariant>& variants) {
  std::vector<FamilyTest> out;
  std::set<std::pair<std::string, std::string>> covered;
  for (const auto& c : comparisons) {
    for (const auto& b : c.baselines) {
      out.push_back({"comparison", c.variant, b, c.metric, c.direction, c.min_effect, c.point});
      covered.insert({c.variant, b});
    }
  }
  std::string proposed;
  for (const auto& v : variants) {
    if (v.role == "proposed") {
      proposed = v.name;
      break;
    }
  }
  if (proposed.empty()) return out;
  // A swept proposed variant is represented by the point its comparisons name.
  std::string point;
  for (const auto& c : comparisons) {
    if (c.variant == proposed && !c.point.empty()) {
      point = c.point;
      break;
    }
  }
  for (const auto& v : variants) {
    if (v.role == "ablation" && !covered.count({proposed, v.name})) {
      out.push_back({"ablation", proposed, v.name, "macro_f1", "greater", 0, point});
    }
  }
  return out;
}

ReportAnalysis AnalyzeReport(const ReportData& d) {
  ReportAnalysis a;
  a.alpha = d.alpha;
  a.columns = ReportColumns(d);
  std::map<std::string, bool> percent;
  for (const auto& c : a.columns) percent[c.name] = c.percent;
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
    // Per class: the runs with the classes of the first that reports them.
    std::vector<std::string> names;
    std::vector<std::map<std::string, std::vector<double>>> per;  // class -> metric -> values
    for (const ReportRun* r : RunsOf(d, g)) {
      if (!r->has_result || r->per_class.empty()) continue;
      std::vector<std::string> run_names = r->class_names;
      if (run_names.empty() && r->per_class.size() == kNumEmotions) {
        for (const auto& e : AllEmotions()) run_names.emplace_back(e.name);  // results before classes were named
      }
      if (run_names.size() != r->per_class.size()) continue;
      if (names.empty()) {
        names = run_names;
        per.resize(names.size());
      }
      if (run_names != names) continue;
      for (size_t k = 0; k < names.size(); ++k) {
        for (const auto& [metric, v] : r->per_class[k]) per[k][metric].push_back(v);
      }
    }
    for (size_t k = 0; k < names.size(); ++k) {
      ClassRow row;
      row.name = names[k];
      row.precision = Summarise(per[k]["precision"]);
      row.recall = Summarise(per[k]["recall"]);
      row.f1 = Summarise(per[k]["f1"]);
      row.support = Summarise(per[k]["support"]).mean;
      g.per_class.push_back(std::move(row));
    }
  }
  auto add = [&](const std::string& kind, const GroupSummary& x, const GroupSummary& y, const std::string& metric,
                 Tail tail, double min_effect) {
    ComparisonResult c;
    c.min_effect = min_effect;
    c.kind = kind;
    c.variant = x.label;
    c.baseline = y.label;
    c.metric = metric;
    c.percent = !percent.count(metric) || percent[metric];
    c.tail = tail;
    const auto xv = Values(d, x, metric), yv = Values(d, y, metric);
    c.pairs = MatchPairs(xv, yv);
    c.t = PairedTTestOneTailed(c.pairs.x, c.pairs.y, tail);
    c.wilcoxon = WilcoxonSignedRank(c.pairs.x, c.pairs.y, tail);
    AddEffectSizes(xv, yv, &c);
    a.comparisons.push_back(std::move(c));
  };
  std::vector<GroupKey> keys;
  for (const auto& g : a.groups) keys.push_back({g.variant, g.point});
  auto group = [&](const GroupKey& k) -> const GroupSummary& {
    for (const auto& g : a.groups) {
      if (g.variant == k.variant && g.point == k.point) return g;
    }
    return a.groups.front();  // unreachable: every key is one of a.groups
  };
  for (const GroupTest& gt : FamilyGroupTests(ComparisonFamily(d.comparisons, d.variants), keys)) {
    const Tail tail = ParseTail(gt.test.direction).value_or(Tail::kGreater);
    add(gt.test.kind, group(gt.x), group(gt.y), gt.test.metric, tail, gt.test.min_effect);
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

std::vector<std::string> MixedCodeWarnings(const ReportData& data) {
  std::set<std::string> compared;
  for (const auto& c : data.comparisons) {
    compared.insert(c.variant);
    compared.insert(c.baselines.begin(), c.baselines.end());
  }
  std::vector<std::string> out;
  for (const auto& v : data.variants) {
    if (!compared.count(v.name)) continue;
    std::map<std::string, int> versions;  // short hash -> results
    std::string script;
    for (const auto& r : data.runs) {
      if (r.variant != v.name || !r.has_result || r.script_sha256.empty()) continue;
      ++versions[r.script_sha256.substr(0, 12) +
                 (r.git_commit.empty() ? "" : " at commit " + r.git_commit.substr(0, 12))];
      script = r.script;
    }
    if (versions.size() < 2) continue;
    std::string list;
    for (const auto& [hash, n] : versions) list += fmt::format("{}{} ({} result{})", list.empty() ? "" : ", ", hash, n, n == 1 ? "" : "s");
    out.push_back(fmt::format("Variant {} ran {} versions of {} (sha256 {}): its comparisons mix code, so their "
                              "differences are not the model's alone.",
                              v.name, versions.size(), script, list));
  }
  return out;
}

}  // namespace avctl
