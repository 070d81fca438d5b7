#include "web/verdict.h"

#include <cmath>

#include <fmt/format.h>

namespace avctl {

namespace {

std::string P(double p) { return p < 1e-4 ? fmt::format("{:.1e}", p) : fmt::format("{:.3g}", p); }

// Percentage points with a sign; the minus sign as U+2212.
std::string Pp(double fraction) {
  const double v = 100 * fraction;
  const std::string digits = fmt::format("{:.1f}", std::fabs(v));
  if (digits == "0.0") return "0.0";
  return (v < 0 ? "\u2212" : "+") + digits;
}

// A difference in the metric's own units, with a sign (U+2212 for minus).
std::string Units(double v) {
  const std::string digits = fmt::format("{:.4g}", std::fabs(v));
  if (v == 0) return "0";
  return (v < 0 ? "\u2212" : "+") + digits;
}

}  // namespace

std::string MetricWords(const std::string& metric) {
  std::string out;
  for (char c : metric) out += c == '_' ? ' ' : c;
  for (const char* suffix : {" f1"}) {
    const std::string s(suffix);
    if (out.size() >= s.size() && out.compare(out.size() - s.size(), s.size(), s) == 0) {
      out.replace(out.size() - s.size(), s.size(), " F1");
    }
  }
  if (out == "f1") out = "F1";
  return out;
}

std::vector<std::string> VerdictSentences(const ReportAnalysis& a) {
  std::vector<std::string> out;
  for (const ComparisonResult& c : a.comparisons) {
    if (c.kind != "comparison") continue;
    const std::string metric = MetricWords(c.metric) + (c.tail == Tail::kLess ? " (lower is better)" : "");
    if (!c.t.defined) {
      out.push_back(fmt::format("{} against {}: {} matched pair(s), too few for a test of {}.", c.variant,
                                c.baseline, c.pairs.x.size(), metric));
      continue;
    }
    // Percentage points for a metric in [0, 1]; otherwise the metric's own units.
    const auto d = [&](double v) { return c.percent ? Pp(v) : Units(v); };
    const std::string numbers =
        fmt::format("{}{} {} (95% CI {} to {}), {} matched pairs, Holm-adjusted p = {}", d(c.t.mean_diff),
                    c.percent ? " pp" : "", metric, d(c.t.ci_low), d(c.t.ci_high), c.t.n, P(c.p_holm));
    // How often it wins, beside the p-value (the report's effect sizes).
    const std::string wins =
        c.paired_wins.defined
            ? fmt::format(" It wins {:.0f}% of the matched pairs (95% CI {:.0f}% to {:.0f}%).",
                          100 * c.paired_wins.estimate, 100 * c.paired_wins.low, 100 * c.paired_wins.high)
            : "";
    if (c.significant) {
      out.push_back(fmt::format("{} beats {} by {}: significant at α = {}.{}", c.variant, c.baseline, numbers,
                                a.alpha, wins));
    } else {
      out.push_back(fmt::format("{} does not beat {} significantly: {}: not significant at α = {}{}.{}", c.variant,
                                c.baseline, numbers, a.alpha,
                                c.significant_raw ? fmt::format(" (the unadjusted p = {} is below it)", P(c.t.p))
                                                  : "",
                                wins));
    }
  }
  return out;
}

std::string SyntheticCaveat() {
  return "These runs used synthetic features (generated, not real recordings): the verdicts test the "
         "system, not emotion recognition.";
}

}  // namespace avctl
