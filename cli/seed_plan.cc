#include "cli/seed_plan.h"

#include <cmath>

#include <fmt/format.h>

namespace avctl::cli {

namespace {

std::string Pairs(int n) { return n > 0 ? std::to_string(n) : "none"; }

}  // namespace

SweepPlan PlanSweep(const SweepSpec& spec, const ReportAnalysis& pilot, const std::string& pilot_name) {
  SweepPlan plan;
  plan.spec_name = spec.name;
  plan.pilot_name = pilot_name;
  plan.alpha = spec.alpha;
  const std::vector<FamilyTest> family = SpecFamily(spec);
  plan.family = static_cast<int>(family.size());
  const int spec_pairs = static_cast<int>(spec.seeds.size() * spec.partitions.size());
  for (const FamilyTest& w : family) {
    PlannedComparison row;
    row.variant = w.variant;
    row.baseline = w.baseline;
    row.metric = w.metric;
    row.spec_pairs = spec_pairs;
    for (const ComparisonResult& c : pilot.comparisons) {
      if (c.variant != w.variant || c.baseline != w.baseline || c.metric != w.metric) continue;
      const double sign = w.direction == "less" ? -1 : 1;
      row.in_pilot = c.t.n >= 2;
      row.pilot = PlanSeeds(c.t.n, sign * c.t.mean_diff, c.t.sd_diff, spec.alpha, plan.family, w.min_effect);
      if (row.in_pilot && spec_pairs >= 2) {
        row.power_at_spec = PairedTTestPower(row.pilot.observed, row.pilot.sd, spec_pairs, row.pilot.alpha_holm);
        if (w.min_effect > 0) {
          row.power_min_effect_at_spec = PairedTTestPower(w.min_effect, row.pilot.sd, spec_pairs, row.pilot.alpha_holm);
        }
      }
      break;
    }
    if (!row.in_pilot) row.pilot.min_effect = w.min_effect;
    plan.rows.push_back(std::move(row));
  }
  return plan;
}

std::string RenderSweepPlan(const SweepPlan& p) {
  std::string s = fmt::format(
      "seed plan for {} from pilot {}: one-tailed matched paired t-test, alpha {}, Holm family of {} "
      "(worst case alpha / {} = {:.4f}), 80% power; the spec gives {} pairs per comparison\n\n",
      p.spec_name, p.pilot_name, p.alpha, p.family, p.family, p.alpha / std::max(1, p.family),
      p.rows.empty() ? 0 : p.rows.front().spec_pairs);
  s += fmt::format("{:<24} {:<24} {:>5} {:>9} {:>8} {:>15} {:>15} {:>10} {:>15}\n", "variant", "baseline", "pilot",
                   "diff pp", "sd pp", "pairs: diff", "pairs: min_eff", "min_eff pp", "power at spec");
  for (const auto& r : p.rows) {
    if (!r.in_pilot) {
      s += fmt::format("{:<24} {:<24} {:>5}  no matched pairs of this comparison in the pilot\n", r.variant,
                       r.baseline, r.pilot.n);
      continue;
    }
    const SeedPlan& q = r.pilot;
    const std::string me = q.min_effect > 0 ? fmt::format("{}/{}", Pairs(q.pairs_min_effect), Pairs(q.pairs_min_effect_holm)) : "-";
    const std::string power = q.min_effect > 0
                                  ? fmt::format("{:.0f}%/{:.0f}%", 100 * r.power_at_spec, 100 * r.power_min_effect_at_spec)
                                  : fmt::format("{:.0f}%", 100 * r.power_at_spec);
    s += fmt::format("{:<24} {:<24} {:>5} {:>+9.2f} {:>8.2f} {:>15} {:>15} {:>10} {:>15}\n", r.variant, r.baseline,
                     q.n, 100 * q.observed, 100 * q.sd, fmt::format("{}/{}", Pairs(q.pairs), Pairs(q.pairs_holm)), me,
                     q.min_effect > 0 ? fmt::format("{:.2f}", 100 * q.min_effect) : "-", power);
  }
  s += "\npairs: seeds x partitions, at alpha / at Holm's worst case; \"none\": no count up to " +
       std::to_string(kMaxPlannedPairs) +
       " reaches 80% (an observed difference of 0 or against the tested direction). power at spec: at the spec's "
       "pairs and Holm's worst case, for the observed difference (and for min_effect).\n";
  return s;
}

ReportData ReportDataFromControl(const Json& status, const Json& results) {
  ReportData d;
  d.sweep_name = status.value("name", "");
  d.alpha = status.value("alpha", 0.05);
  for (const auto& v : status.value("variants", Json::array())) {
    d.variants.push_back({v.value("name", ""), v.value("role", ""), v.value("preset", "")});
  }
  for (const auto& c : status.value("comparisons", Json::array())) {
    ReportComparison rc;
    rc.variant = c.value("variant", "");
    for (const auto& b : c.value("baselines", Json::array())) {
      if (b.is_string()) rc.baselines.push_back(b.get<std::string>());
    }
    rc.metric = c.value("metric", "macro_f1");
    rc.direction = c.value("direction", "greater");
    rc.min_effect = c.value("min_effect", 0.0);
    rc.point = c.value("point", "");
    d.comparisons.push_back(rc);
  }
  for (const auto& r : results) {
    ReportRun run;
    run.key = r.value("key", "");
    run.variant = r.value("variant", "");
    run.point = r.value("point", "");
    run.seed = r.value("seed", uint64_t{0});
    run.partition = r.value("partition", 1);
    run.state = "done";
    run.has_result = true;
    const Json metrics = r.value("metrics", Json::object());  // items() must not outlive its object
    for (const auto& [k, v] : metrics.items()) {
      if (v.is_number()) run.metrics[k] = v.get<double>();
    }
    d.runs.push_back(std::move(run));
  }
  return d;
}

std::string RenderPowerSoFar(const ReportAnalysis& a) {
  if (a.comparisons.empty()) return "";
  std::string s = fmt::format("  power so far (one-tailed paired t-test, Holm's worst case alpha / {}):\n",
                              a.comparisons.size());
  for (const auto& c : a.comparisons) {
    const SeedPlan& p = c.plan;
    if (!p.defined) {
      s += fmt::format("    {} vs {}: {} pair(s), no test yet\n", c.variant, c.baseline, p.n);
      continue;
    }
    s += fmt::format("    {} vs {}: {} pairs, diff {:+.2f} pp, power {:.0f}% at that diff, {:.2f} pp detectable "
                     "at 80%, {} pairs for 80% at that diff\n",
                     c.variant, c.baseline, p.n, 100 * p.observed, 100 * p.power_holm, 100 * p.detectable_holm,
                     Pairs(p.pairs_holm));
  }
  return s;
}

Json PowerSoFarJson(const ReportAnalysis& a) {
  Json out = Json::array();
  for (const auto& c : a.comparisons) {
    const SeedPlan& p = c.plan;
    out.push_back({{"variant", c.variant}, {"baseline", c.baseline}, {"pairs", p.n}, {"defined", p.defined},
                   {"observed", p.observed}, {"sd", p.sd}, {"alpha_holm", p.alpha_holm},
                   {"power_holm", p.defined ? Json(p.power_holm) : Json()},
                   {"detectable_holm", p.defined ? Json(p.detectable_holm) : Json()},
                   {"pairs_holm", p.pairs_holm}});
  }
  return out;
}

}  // namespace avctl::cli
