#include "cli/sequential_plan.h"

#include <cmath>

#include <fmt/format.h>

#include "cli/seed_plan.h"
#include "common/crossing_probability.h"

namespace avctl::cli {
namespace {

struct Outcome {
  double reject = 0, expected_pairs = 0;
};

// The design's rejection probability and expected pairs at an effect of
// `effect` sd per pair: E[Z_K] = effect sqrt(n_K).
Outcome Evaluate(const SequentialDesign& d, double effect) {
  const size_t K = d.information.size();
  std::vector<double> lower(K, -kNoBound);
  if (!d.futility_z.empty()) lower = d.futility_z;
  const double drift = effect * std::sqrt(static_cast<double>(d.spec.looks.back()));
  const CrossingProbabilities p = CrossingProbabilitiesOf(d.information, lower, d.efficacy_z, drift);
  Outcome o;
  double stopped = 0;
  for (size_t k = 0; k < K; ++k) {
    o.reject += p.upper[k];
    const double stop_here = k + 1 < K ? p.upper[k] + p.lower[k] : 1 - stopped;
    o.expected_pairs += stop_here * d.spec.looks[k];
    stopped += stop_here;
  }
  return o;
}

std::string Level(double p) { return p < 1e-4 ? fmt::format("{:.2e}", p) : fmt::format("{:.4f}", p); }
std::string Bound(double z) { return std::isfinite(z) ? fmt::format("{:.3f}", z) : (z > 0 ? "none" : "-"); }

}  // namespace

Result<SweepDesign> DesignSweep(const SweepSpec& spec, const ReportAnalysis* pilot, const std::string& pilot_name) {
  if (!spec.sequential) {
    return Status::InvalidArgument(
               "the spec has no \"sequential\" member: it runs every seed and is analysed once (see docs/SWEEPS.md)")
        .WithField("sequential");
  }
  SweepDesign out;
  out.spec_name = spec.name;
  out.pilot_name = pilot_name;
  out.sequential = *spec.sequential;
  out.partitions = static_cast<int>(spec.partitions.size());
  const std::vector<FamilyTest> family = SpecFamily(spec);
  out.family = std::max<int>(1, static_cast<int>(family.size()));
  SequentialDesignSpec at_first_step = spec.sequential->design;
  at_first_step.alpha = spec.alpha / out.family;
  AVCTL_ASSIGN_OR_RETURN(out.design, MakeSequentialDesign(at_first_step));
  SequentialDesignSpec fixed_spec = at_first_step;
  fixed_spec.looks = {at_first_step.looks.back()};
  fixed_spec.futility = false;
  fixed_spec.strict = false;
  AVCTL_ASSIGN_OR_RETURN(const SequentialDesign fixed, MakeSequentialDesign(fixed_spec));
  const Outcome null = Evaluate(out.design, 0);
  for (const FamilyTest& f : family) {
    DesignedComparison row;
    row.variant = f.variant;
    row.baseline = f.baseline;
    row.metric = f.metric;
    row.null_reject = null.reject;
    row.null_expected_pairs = null.expected_pairs;
    if (pilot != nullptr) {
      for (const ComparisonResult& c : pilot->comparisons) {
        if (c.variant != f.variant || c.baseline != f.baseline || c.metric != f.metric || c.t.n < 2) continue;
        if (!(c.t.sd_diff > 0)) break;  // no spread: no effect size to plan with
        row.in_pilot = true;
        row.pilot_pairs = c.t.n;
        row.effect = (f.direction == "less" ? -1 : 1) * c.t.mean_diff / c.t.sd_diff;
        const Outcome o = Evaluate(out.design, row.effect);
        row.power = o.reject;
        row.expected_pairs = o.expected_pairs;
        row.fixed_power = Evaluate(fixed, row.effect).reject;
        break;
      }
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

std::string RenderSweepDesign(const SweepDesign& d) {
  const SequentialDesignSpec& s = d.design.spec;
  std::string out = fmt::format(
      "sweep {}: group-sequential design, {} spending{}{}, one-sided α = {} / {} test(s) = {:.4g} per comparison "
      "(group-sequential Holm: a rejection passes its α on to the others), stages {}\n\n",
      d.spec_name, AlphaSpendingName(s.spending),
      s.futility ? fmt::format(", non-binding futility (β = {})", s.beta) : "", s.strict ? ", strict" : "",
      d.design.spec.alpha * d.family, d.family, s.alpha,
      d.sequential.release == StageRelease::kHeld ? "held until each look is analysed" : "released speculatively");
  out += fmt::format("{:>5} {:>6} {:>6} {:>7} {:>9} {:>11} {:>9} {:>11}", "look", "pairs", "seeds", "info", "z bound",
                     "nominal p", "t bound", "α spent");
  if (s.futility) out += fmt::format(" {:>11} {:>11} {:>9}", "futility z", "futility t", "β spent");
  out += "\n";
  for (size_t k = 0; k < s.looks.size(); ++k) {
    out += fmt::format("{:>5} {:>6} {:>6} {:>7.3f} {:>9} {:>11} {:>9} {:>11}", k + 1, s.looks[k],
                       s.looks[k] / d.partitions, d.design.information[k], Bound(d.design.efficacy_z[k]),
                       Level(d.design.nominal_alpha[k]), Bound(d.design.efficacy_t[k]), Level(d.design.alpha_spent[k]));
    if (s.futility) {
      out += fmt::format(" {:>11} {:>11} {:>9}", Bound(d.design.futility_z[k]), Bound(d.design.futility_t[k]),
                         Level(d.design.beta_spent[k]));
    }
    out += "\n";
  }
  out += fmt::format(
      "\nReject at a look when the paired t-test's one-sided p is at most its nominal p (t >= t bound){}. {}\n",
      s.futility ? "; stop for futility when t < futility t (non-binding: the α above ignores it)" : "",
      s.strict ? "Strict: the t bounds are calibrated on 10^6 simulated null paths (type I error at or below α)."
               : "Standard rule (rpact's): each look's normal-theory level applied to the t-test, whose type I "
                 "error is slightly above α at small n (0.0519 at α = 0.05 with looks at 5, 10, 15, 20 pairs); "
                 "\"strict\": true keeps it at or below α.");
  if (!d.pilot_name.empty()) {
    out += fmt::format("\nFrom pilot {} (normal approximation, the bounds' recursion):\n", d.pilot_name);
    out += fmt::format("{:<28} {:<28} {:>6} {:>8} {:>7} {:>9} {:>8} {:>10} {:>12}\n", "variant", "baseline",
                       "pilot", "effect", "power", "E[pairs]", "fixed", "null: rej", "null E[pairs]");
    for (const auto& r : d.rows) {
      if (!r.in_pilot) {
        out += fmt::format("{:<28} {:<28} {:>6}   (fewer than 2 matched pairs with spread in the pilot)\n", r.variant,
                           r.baseline, r.pilot_pairs);
        continue;
      }
      out += fmt::format("{:<28} {:<28} {:>6} {:>8.3f} {:>7.3f} {:>9.2f} {:>8.3f} {:>10.4f} {:>12.2f}\n", r.variant,
                         r.baseline, r.pilot_pairs, r.effect, r.power, r.expected_pairs, r.fixed_power, r.null_reject,
                         r.null_expected_pairs);
    }
    out += "effect: the pilot's mean difference over the sd of its paired differences; fixed: the power of one "
           "analysis at the last look's pairs.\n";
  }
  return out;
}

Json SweepDesignJson(const SweepDesign& d) {
  const SequentialDesign& g = d.design;
  Json looks = Json::array();
  for (size_t k = 0; k < g.information.size(); ++k) {
    Json l = {{"pairs", g.spec.looks[k]},         {"seeds", g.spec.looks[k] / d.partitions},
              {"information", g.information[k]}, {"z", g.efficacy_z[k]},
              {"nominal_p", g.nominal_alpha[k]}, {"t", std::isfinite(g.efficacy_t[k]) ? Json(g.efficacy_t[k]) : Json()},
              {"alpha_spent", g.alpha_spent[k]}};
    if (!g.futility_z.empty()) {
      l["futility_z"] = g.futility_z[k];
      l["futility_t"] = g.futility_t[k];
      l["beta_spent"] = g.beta_spent[k];
    }
    looks.push_back(l);
  }
  Json rows = Json::array();
  for (const auto& r : d.rows) {
    Json row = {{"variant", r.variant}, {"baseline", r.baseline}, {"metric", r.metric},
                {"null_reject", r.null_reject}, {"null_expected_pairs", r.null_expected_pairs}};
    if (r.in_pilot) {
      row["pilot_pairs"] = r.pilot_pairs;
      row["effect"] = r.effect;
      row["power"] = r.power;
      row["expected_pairs"] = r.expected_pairs;
      row["fixed_power"] = r.fixed_power;
    }
    rows.push_back(row);
  }
  Json j = {{"spec", d.spec_name},
            {"sequential", SequentialSweepToJson(d.sequential)},
            {"family", d.family},
            {"alpha", g.spec.alpha * d.family},
            {"alpha_per_comparison", g.spec.alpha},
            {"looks", looks},
            {"comparisons", rows}};
  if (!d.pilot_name.empty()) j["pilot"] = d.pilot_name;
  return j;
}

}  // namespace avctl::cli
