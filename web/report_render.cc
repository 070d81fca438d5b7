#include "web/report_render.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "common/emotions.h"
#include "common/label_provenance.h"
#include "common/text.h"
#include "web/html_table.h"
#include "web/model_cards.h"
#include "web/resource_needs.h"
#include "web/sequential_report.h"
#include "web/svg.h"
#include "web/verdict.h"

namespace avctl {

namespace {

// Tables fit the page: headers wrap, long names and reasons wrap anywhere,
// numbers stay on one line. Below 720 px every table stacks: one block per
// row, each value after its column's name (HtmlTable's data-label). Charts
// scale down with the page. Printing drops the scroll boxes and keeps every
// column.
const char* kStyle = R"CSS(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px;overflow-wrap:break-word}
h1{font-size:22px;margin-bottom:4px;overflow-wrap:anywhere}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{padding:4px 7px;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
th{vertical-align:bottom;white-space:normal;min-width:3em}td.wrap{white-space:normal;overflow-wrap:anywhere;min-width:9em}
td:first-child,th:first-child{text-align:left}th{background:#f4f4f4;cursor:pointer;user-select:none}
.sig{color:#0a6b2c;font-weight:600}.raw{color:#8a5300}.ns{color:#595959}.fail{color:#b3261e}
.muted{color:#595959;font-size:12px}.verdict{border-left:4px solid #2a6;background:#f4faf6;padding:6px 14px;margin:12px 0}.verdict h2{margin-top:4px}.verdict li{margin:4px 0}
.plots{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}.plots>div{min-width:0;max-width:100%;overflow-wrap:anywhere}svg{max-width:100%;height:auto}
.scroll{overflow-x:auto;max-width:100%}.kv td{text-align:left;white-space:normal;overflow-wrap:anywhere}.role{font-size:11px;color:#595959}
code{background:#f4f4f4;padding:1px 4px;overflow-wrap:anywhere}
@media (max-width:720px){body{margin:12px auto;padding:0 10px}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:auto}table.stack thead{display:none}
table.stack tr{border:1px solid #ddd;margin:8px 0;padding:2px 6px}
table.stack td{display:block;text-align:right;white-space:normal;overflow-wrap:anywhere;border-bottom:1px solid #f0f0f0;min-height:1.45em}
table.stack td::before{content:attr(data-label);float:left;max-width:48%;text-align:left;font-weight:600;color:#444;padding-right:8px}
table.stack td::after{content:"";display:block;clear:both}table.stack td:first-child{text-align:right}}
@media print{body{max-width:none;margin:0;padding:0;font-size:10px}.scroll{overflow:visible}
table{font-size:9px;page-break-inside:auto}tr{page-break-inside:avoid}td,th{padding:2px 4px;white-space:normal}th{cursor:auto}}
)CSS";

// Click a header to sort by its column (numbers by data-v, else text).
const char* kSortScript = R"JS(
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var rows=Array.prototype.slice.call(t.querySelectorAll('tbody tr'));
      var asc=th.getAttribute('data-asc')!=='1';
      rows.sort(function(a,b){
        var x=a.children[i],y=b.children[i];
        var xv=x.getAttribute('data-v'),yv=y.getAttribute('data-v');
        var c=(xv!==null&&yv!==null)?(parseFloat(xv)-parseFloat(yv)):x.textContent.localeCompare(y.textContent);
        return asc?c:-c;});
      rows.forEach(function(r){t.querySelector('tbody').appendChild(r);});
      th.setAttribute('data-asc',asc?'1':'0');});});});
)JS";

std::string E(const std::string& s) { return XmlEscape(s); }

std::string Pct(const MetricSummary& m) {
  if (m.n == 0) return "-";
  return m.n > 1 ? fmt::format("{:.1f} ± {:.1f}", 100 * m.mean, 100 * m.sd) : fmt::format("{:.1f}", 100 * m.mean);
}

// A metric's mean ± sd as its column shows it: x100 for [0, 1] metrics, else as is.
std::string Shown(const MetricSummary& m, bool percent) {
  if (percent || m.n == 0) return Pct(m);
  return m.n > 1 ? fmt::format("{:.4g} ± {:.3g}", m.mean, m.sd) : fmt::format("{:.4g}", m.mean);
}

// A difference of a metric: percentage points for [0, 1] metrics, else the metric's own units.
std::string Diff(double d, bool percent) {
  return percent ? fmt::format("{:+.2f}", 100 * d) : fmt::format("{:+.4g}", d);
}

MetricSummary Get(const GroupSummary& g, const std::string& metric) {
  auto it = g.metrics.find(metric);
  return it == g.metrics.end() ? MetricSummary{} : it->second;
}

std::string PValue(double p) {
  if (p < 1e-4) return fmt::format("{:.1e}", p);
  return fmt::format("{:.4f}", p);
}

std::string Page(const std::string& title, const std::string& body) {
  return fmt::format("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                     "content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{}</style></head><body><main>"
                     "{}</main><script>{}</script></body></html>\n",
                     E(title), kStyle, body, kSortScript);
}

std::string GroupFile(size_t i) { return fmt::format("variant-{}.html", i + 1); }

std::string MetricsTable(const std::vector<const GroupSummary*>& groups, const std::vector<MetricColumn>& columns,
                         const std::map<std::string, size_t>& index,
                         const std::set<std::string>& references = {}) {
  std::vector<std::string> heads = {"Architecture", "runs"};
  for (const auto& c : columns) heads.push_back(E(c.label));
  HtmlTable t(heads, "sortable");
  for (const GroupSummary* g : groups) {
    std::vector<HtmlCell> row;
    const std::string page = GroupFile(index.at(g->label));
    HtmlCell name{fmt::format("<a href=\"{}\">{}</a> <span class=\"role\">{}</span> <a class=\"muted\" "
                              "href=\"{}#card\">card</a>",
                              page, E(g->label), references.count(g->label) ? "reference" : E(g->role), page),
                  "wrap"};
    row.push_back(std::move(name));
    row.push_back(NumberCell(g->done, fmt::format("{}{}", g->done,
                                                  g->failed > 0 ? fmt::format(" <span class=\"fail\">({} failed)</span>",
                                                                              g->failed)
                                                                : "")));
    for (const auto& c : columns) {
      const MetricSummary ms = Get(*g, c.name);
      row.push_back(NumberCell(ms.mean, Shown(ms, c.percent)));
    }
    t.AddRow(std::move(row));
  }
  return t.Render();
}

// A probability with its bootstrap interval, as percentages.
std::string Share(const EffectInterval& e) {
  if (!e.defined) return "-";
  return fmt::format("{:.0f}% [{:.0f}, {:.0f}]", 100 * e.estimate, 100 * e.low, 100 * e.high);
}

std::string ComparisonsTable(const std::vector<const ComparisonResult*>& cs, double alpha) {
  // Percentage points when every compared metric lies in [0, 1]; else each in its own units.
  const bool pp = std::all_of(cs.begin(), cs.end(), [](const ComparisonResult* c) { return c->percent; });
  HtmlTable t({"variant", "baseline", "metric", "pairs", pp ? "mean diff (pp)" : "mean diff", pp ? "95% CI (pp)" : "95% CI", "t (df)",
               "p (one-tailed)", "p (Holm)", "d<sub>z</sub>", "Wilcoxon p", fmt::format("at α = {}", alpha)},
              "sortable");
  for (const ComparisonResult* c : cs) {
    std::string missing;
    if (c->pairs.unmatched_x + c->pairs.unmatched_y > 0) {
      missing = fmt::format(" <span class=\"muted\">({} unpaired)</span>", c->pairs.unmatched_x + c->pairs.unmatched_y);
    }
    std::string mark = !c->t.defined         ? "<span class=\"ns\">n/a: " + E(c->t.note) + "</span>"
                       : c->significant      ? "<span class=\"sig\">★ significant</span>"
                       : c->significant_raw  ? "<span class=\"raw\">☆ raw p only</span>"
                                             : "<span class=\"ns\">not significant</span>";
    std::vector<HtmlCell> row = {{E(c->variant), "wrap"},
                                 {E(c->baseline), "wrap"},
                                 {fmt::format("{} ({})", E(c->metric), TailName(c->tail))},
                                 NumberCell(static_cast<double>(c->pairs.x.size()),
                                            fmt::format("{}{}", c->pairs.x.size(), missing))};
    if (c->t.defined) {
      row.push_back(NumberCell(c->t.mean_diff, Diff(c->t.mean_diff, c->percent)));
      row.push_back({fmt::format("[{}, {}]", Diff(c->t.ci_low, c->percent), Diff(c->t.ci_high, c->percent))});
      row.push_back(NumberCell(c->t.t, fmt::format("{:.2f} ({:.0f})", c->t.t, c->t.df)));
      row.push_back(NumberCell(c->t.p, PValue(c->t.p)));
      row.push_back(NumberCell(c->p_holm, PValue(c->p_holm)));
      row.push_back(NumberCell(c->t.dz, fmt::format("{:.2f}", c->t.dz)));
      row.push_back({c->wilcoxon.defined ? PValue(c->wilcoxon.p) : "-"});
    } else {
      for (int i = 0; i < 7; ++i) row.push_back({"-"});
    }
    row.push_back({mark, "wrap"});
    t.AddRow(std::move(row));
  }
  return t.Render();
}

// An interquartile mean with its bootstrap interval, in the metric's units.
std::string Iqm(const EffectInterval& e, bool percent) {
  if (!e.defined) return "-";
  if (percent) return fmt::format("{:.2f} [{:.2f}, {:.2f}]", 100 * e.estimate, 100 * e.low, 100 * e.high);
  return fmt::format("{:.4g} [{:.4g}, {:.4g}]", e.estimate, e.low, e.high);
}

// Effect sizes beyond the p-value (Agarwal et al. 2021; Bouthillier et al. 2021).
std::string EffectSizesTable(const std::vector<ComparisonResult>& cs) {
  HtmlTable t({"variant", "baseline", "metric", "pairs won [95% CI]", "P(variant > baseline) [95% CI]",
               "IQM of variant [95% CI]", "IQM of baseline [95% CI]"},
              "sortable");
  for (const auto& c : cs) {
    t.AddRow({{E(c.variant), "wrap"},
              {E(c.baseline), "wrap"},
              {fmt::format("{} ({})", E(c.metric), TailName(c.tail))},
              NumberCell(c.paired_wins.estimate, Share(c.paired_wins)),
              NumberCell(c.improvement.estimate, Share(c.improvement)),
              NumberCell(c.iqm_variant.estimate, Iqm(c.iqm_variant, c.percent)),
              NumberCell(c.iqm_baseline.estimate, Iqm(c.iqm_baseline, c.percent))});
  }
  return t.Render();
}

// Pairs as a number, or "none suffices" when no count up to the planning
// cap reaches 80% power (a difference of 0 or in the wrong direction).
std::string Pairs(int n) { return n > 0 ? std::to_string(n) : "<span class=\"muted\">none suffices</span>"; }

std::string Power(double p) { return std::isfinite(p) ? fmt::format("{:.0f}%", 100 * p) : "-"; }

// Seed planning: what the sweep's n can detect and what it would take.
std::string SeedPlanningTable(const std::vector<ComparisonResult>& cs) {
  HtmlTable t({"variant", "baseline", "pairs", "observed diff (pp)", "sd of diffs (pp)", "power at the observed diff",
               "detectable at 80% (pp)", "pairs for 80% at the observed diff", "min_effect (pp)",
               "power at min_effect", "pairs for 80% at min_effect"});
  bool any_min_effect = false;
  for (const auto& c : cs) {
    const SeedPlan& p = c.plan;
    std::vector<HtmlCell> row = {{E(c.variant), "wrap"}, {E(c.baseline), "wrap"}, {std::to_string(p.n)}};
    if (!p.defined) {
      row.push_back({"fewer than 2 matched pairs: no test, no plan", "muted wrap", 8});
      t.AddRow(std::move(row));
      continue;
    }
    // Each figure: at α, then Holm's worst case (α / family size) after the slash.
    // pp for a metric in [0, 1], else the metric's own units (as the comparisons table).
    const auto v = [&](double x) { return c.percent ? fmt::format("{:.2f}", 100 * x) : fmt::format("{:.4g}", x); };
    row.push_back({Diff(p.observed, c.percent)});
    row.push_back({v(p.sd)});
    row.push_back({fmt::format("{} / {}", Power(p.power), Power(p.power_holm))});
    row.push_back({fmt::format("{} / {}", v(p.detectable), v(p.detectable_holm))});
    row.push_back({fmt::format("{} / {}", Pairs(p.pairs), Pairs(p.pairs_holm))});
    if (p.min_effect > 0) {
      any_min_effect = true;
      row.push_back({v(p.min_effect)});
      row.push_back({fmt::format("{} / {}", Power(p.power_min_effect), Power(p.power_min_effect_holm))});
      row.push_back({fmt::format("{} / {}", Pairs(p.pairs_min_effect), Pairs(p.pairs_min_effect_holm))});
    } else {
      for (int i = 0; i < 3; ++i) row.push_back({"-"});
    }
    t.AddRow(std::move(row));
  }
  std::string s = t.Render();
  if (!any_min_effect) {
    s += "<p class=\"muted\">Set <code>comparisons[].min_effect</code> in the spec (metric units, e.g. 0.02 for "
         "2 pp) to see the pairs needed for the smallest difference worth detecting.</p>";
  }
  return s;
}

// A confusion matrix's axis labels for `cells` counts: CREMA-D's six codes
// for its six classes (or a result that names none, stored before results
// named their classes), else the result's class names (their first five
// characters: a cell is narrow), else the class indices.
std::vector<std::string> ClassLabels(const std::vector<std::string>& names, size_t cells) {
  const auto k = static_cast<size_t>(std::llround(std::sqrt(static_cast<double>(cells))));
  std::vector<std::string> six, six_names;
  for (const EmotionInfo& e : AllEmotions()) {
    six.emplace_back(e.code);
    six_names.emplace_back(e.name);
  }
  if (k == six.size() && (names.empty() || names == six_names)) return six;
  std::vector<std::string> out;
  for (size_t i = 0; i < k; ++i) out.push_back(i < names.size() ? names[i].substr(0, 5) : std::to_string(i));
  return out;
}


// Markdown's inline marks as HTML: `code` and *emphasis*; the text escaped.
std::string InlineMarkdown(const std::string& md) {
  std::string out;
  bool code = false, em = false;
  for (char ch : md) {
    if (ch == '`') {
      out += code ? "</code>" : "<code>";
      code = !code;
    } else if (ch == '*' && !code) {
      out += em ? "</em>" : "<em>";
      em = !em;
    } else {
      out += E(std::string(1, ch));
    }
  }
  if (code) out += "</code>";
  if (em) out += "</em>";
  return out;
}

// The preset's model card (docs/MODELS.md, built in): its description, the
// settings it changes from the Defaults card with their sources, and every
// approximation it carries, its own and the Defaults'.
std::string CardSection(const std::string& preset) {
  const ModelCard* card = FindModelCard(preset);
  if (card == nullptr) {
    return fmt::format("<p class=\"muted\">No model card for preset {} in this build.</p>", E(preset));
  }
  std::string b = fmt::format("<h2 id=\"card\">Model card: {}</h2>", E(preset));
  for (const std::string& para : {card->intro, card->notes}) {
    if (!para.empty()) b += "<p>" + InlineMarkdown(para) + "</p>";
  }
  auto table = [&](const std::vector<CardRow>& rs, bool approximations_only) {
    HtmlTable t({"setting", "value", "source", "why"});
    for (const auto& r : rs) {
      if (approximations_only && !r.approximation) continue;
      t.AddRow({{"<code>" + E(r.setting) + "</code>", "wrap"},
                {"<code>" + E(r.value.dump()) + "</code>", "wrap"},
                {InlineMarkdown(r.source), "wrap"},
                {InlineMarkdown(r.why) + (r.approximation ? " <span class=\"raw\">approximation</span>" : ""), "wrap"}});
    }
    return t;
  };
  const HtmlTable own = table(card->rows, false);
  b += own.rows() == 0 ? "<p>Every setting as in the Defaults card.</p>"
                       : "<p>Settings that differ from the Defaults card:</p>" + own.Render();
  if (const ModelCard* defaults = FindModelCard("Defaults"); defaults != nullptr && preset != "Defaults") {
    const HtmlTable approx = table(defaults->rows, true);
    if (approx.rows() > 0) b += "<p>Approximations it shares with every variant (Defaults card):</p>" + approx.Render();
  }
  b += "<p class=\"muted\">From docs/MODELS.md as built into this avctl; the spec's overrides for this variant "
       "apply on top (see the runs' configs).</p>";
  return b;
}

// Per variant: what its measured jobs took, and the GPU memory to declare.
std::string ResourcesSection(const ReportData& d) {
  const std::vector<VariantResources> rs = SummarizeResources(d);
  if (rs.empty()) return "";
  HtmlTable t({"variant", "runs", "devices", "train clips/s (median)", "waiting for data", "peak RSS",
               "peak GPU memory", "deterministic", "declare <code>resources.gpu_memory_mb</code>"});
  bool any_gpu = false;
  for (const auto& v : rs) {
    std::string devices;
    for (const auto& x : v.devices) devices += (devices.empty() ? "" : ", ") + E(x);
    any_gpu = any_gpu || v.gpu_runs > 0;
    t.AddRow({{E(v.variant), "wrap"},
              {std::to_string(v.measured)},
              {devices},
              {fmt::format("{:.1f}", v.median_clips_per_s)},
              {v.median_data_wait_share >= 0 ? fmt::format("{:.1f}%", 100 * v.median_data_wait_share) : "-"},
              {fmt::format("{:.0f} MiB", v.max_peak_rss_mib)},
              {v.gpu_runs > 0 ? fmt::format("{:.0f} MiB (max of {})", v.max_peak_device_mib, v.gpu_runs) : "-"},
              {v.all_deterministic ? "yes" : "no"},
              {v.gpu_runs > 0 ? std::to_string(v.suggested_gpu_memory_mb) : "-"}});
  }
  std::string b = "<h2>Resources</h2>" + t.Render();
  b += any_gpu ? fmt::format("<p class=\"muted\">Declared memory = (largest peak the CUDA caching allocator reserved "
                             "+ {:.0f} MiB for the CUDA context, an allowance, not measured) x {:.2f}, rounded up to "
                             "256 MiB. The coordinator packs jobs on a GPU by their declared memory.</p>",
                             kCudaContextMiB, kGpuMemoryHeadroom)
               : "<p class=\"muted\">No job of this sweep ran on a GPU, so no GPU memory was measured.</p>";
  return b;
}

std::string Position(int epochs, int batches) {
  if (epochs < 0) return "-";
  return batches > 0 ? fmt::format("epoch {} + {} steps", epochs, batches) : fmt::format("epoch {}", epochs);
}

// Attempts that ended without the job's result and those that resumed from a
// checkpoint: where each began and left off, and the compute lost.
std::string RestartsSection(const ReportData& d) {
  if (d.restarts.empty()) return "";
  double lost = 0;
  int ended = 0, resumed = 0;
  for (const auto& r : d.restarts) {
    lost += r.lost_seconds;
    ended += r.state != "succeeded";
    resumed += r.resumed_epochs > 0;
  }
  std::string b = fmt::format(
      "<h2>Restarts</h2><p>{} attempt(s) ended without their job's result; {} attempt(s) resumed from a "
      "checkpoint. Compute lost to restarts: {:.3f} h (each ended attempt's time, dispatch to end, less the "
      "epochs its last checkpoint kept).</p>",
      ended, resumed, lost / 3600);
  HtmlTable t({"job", "attempt", "worker", "state", "resumed from", "last checkpoint", "seconds", "lost s", "reason"});
  for (const auto& r : d.restarts) {
    t.AddRow({{E(r.job_key), "wrap"},
              {std::to_string(r.attempt_id)},
              {E(r.worker)},
              {E(r.state)},
              {Position(r.resumed_epochs, r.resumed_batches)},
              {Position(r.checkpoint_epochs, r.checkpoint_batches)},
              {fmt::format("{:.1f}", r.seconds)},
              {fmt::format("{:.1f}", r.lost_seconds)},
              {E(r.reason), "wrap"}});
  }
  return b + t.Render();
}


// How a sequential test stopped, in words.
std::string StopText(const SequentialTestReport& t, int looks_planned, int looks_analysed) {
  if (!t.decided) return fmt::format("continues (look {} of {} so far)", looks_analysed, looks_planned);
  if (t.last.decision == "accepted") return fmt::format("no rejection by the last look ({})", t.stop_look + 1);
  return fmt::format("{} at look {} of {}", t.last.decision, t.stop_look + 1, looks_planned);
}

// The group-sequential section: stops, bounds, and the estimates corrected
// for the early stop (web/sequential_report.h).
std::string SequentialSection(const SequentialReport& s) {
  if (!s.present) return "";
  std::string b = fmt::format(
      "<h2>Group-sequential looks</h2><p class=\"muted\">Design: {}. {} of {} looks analysed. A comparison is "
      "declared at a look when its paired t-test's one-sided p is at most the look's bound (its share of α, "
      "spent by the pairs it actually had); it stops for futility when its t falls below the futility bound. "
      "After an early stop the plain mean difference is biased upward: the final p-value, the median-unbiased "
      "estimate and its two-sided 1 − 2α interval (α: the test's share) are computed under the stage-wise "
      "ordering as rpact's getAnalysisResults does; the repeated confidence interval at the stop covers the "
      "true difference with probability 1 − 2α whenever the sweep stops.</p>",
      E(s.design), s.looks_analysed, s.looks_planned);
  if (!s.error.empty()) b += "<p class=\"fail\">" + E(s.error) + "</p>";
  const bool pp = std::all_of(s.tests.begin(), s.tests.end(), [](const SequentialTestReport& t) { return t.percent; });
  HtmlTable t({"variant", "baseline", "metric", "stopped", "pairs used / fixed", "p at stop (bound)",
               "final p (stage-wise)", pp ? "median-unbiased estimate [CI] (pp)" : "median-unbiased estimate [CI]",
               pp ? "mean diff at stop (pp)" : "mean diff at stop", pp ? "repeated CI at stop (pp)" : "repeated CI at stop"},
              "sortable");
  for (const auto& r : s.tests) {
    const bool has_final = r.decided && r.final.defined;
    const RepeatedInterval rci = r.intervals.empty() ? RepeatedInterval{} : r.intervals.back().rci;
    t.AddRow({{E(r.last.variant), "wrap"},
              {E(r.last.baseline), "wrap"},
              {fmt::format("{} ({})", E(r.last.metric), E(r.last.direction))},
              {E(StopText(r, s.looks_planned, s.looks_analysed)), "wrap"},
              NumberCell(r.pairs_used, fmt::format("{} / {}", r.pairs_used, r.pairs_fixed)),
              NumberCell(r.p, r.pairs_used >= 2 ? fmt::format("{} ({})", PValue(r.p), PValue(r.bound_p)) : "-"),
              NumberCell(has_final ? r.final.p : 1, has_final ? PValue(r.final.p) : "-"),
              NumberCell(has_final ? r.final.estimate : 0,
                         has_final ? fmt::format("{} [{}, {}]", Diff(r.final.estimate, r.percent),
                                                 Diff(r.final.ci_low, r.percent), Diff(r.final.ci_high, r.percent))
                                   : "-"),
              NumberCell(r.mean, r.pairs_used >= 2 ? Diff(r.mean, r.percent) : "-"),
              {rci.defined ? fmt::format("[{}, {}]", Diff(rci.low, r.percent), Diff(rci.high, r.percent)) : "-"}});
  }
  b += t.Render();
  std::string saved;
  if (s.jobs_not_needed > 0) {
    const std::string time = s.seconds_saved >= 360 ? fmt::format("{:.1f} compute hours", s.seconds_saved / 3600)
                                                    : fmt::format("{:.0f} compute seconds", s.seconds_saved);
    saved = fmt::format("{} job(s) were not needed: the comparisons they would have served were decided, and "
                        "their seeds never ran (about {} at their variants' mean time per run). ",
                        s.jobs_not_needed, time);
  }
  if (s.overrun > 0) {
    saved += fmt::format("{} result(s) came from seeds past their variant's last decision (speculative release): "
                         "recorded and shown above, not part of any decision. ",
                         s.overrun);
  }
  b += "<p>" + E(saved) +
       "The tables above it (paired t-tests with Holm, Wilcoxon checks, effect sizes) and the seed planning are "
       "fixed-sample analyses of the pairs that ran and are not adjusted for the interim looks; the decisions "
       "are this section's. With the standard rule the type I error is slightly above α at small first looks "
       "(0.052 at α = 0.05 with looks at 5/10/15/20 pairs; strict mode keeps it at or below α).</p>";
  return b;
}

// One verdict sentence per decided sequential test.
std::vector<std::string> SequentialVerdicts(const SequentialReport& s) {
  std::vector<std::string> out;
  for (const auto& r : s.tests) {
    if (!r.decided) continue;
    const std::string metric = r.last.metric;
    if (r.last.decision == "efficacy") {
      std::string est;
      if (r.final.defined) {
        est = fmt::format("; final p = {} (stage-wise), median-unbiased estimate {}{} [{}, {}]", PValue(r.final.p),
                          Diff(r.final.estimate, r.percent), r.percent ? " pp" : "", Diff(r.final.ci_low, r.percent),
                          Diff(r.final.ci_high, r.percent));
      }
      out.push_back(fmt::format("Group-sequential: {} beats {} on {} at look {} of {}, with {} of {} pairs{}.",
                                r.last.variant, r.last.baseline, metric, r.stop_look + 1, s.looks_planned,
                                r.pairs_used, r.pairs_fixed, est));
    } else if (r.last.decision == "futility") {
      out.push_back(fmt::format("Group-sequential: {} against {} on {} stopped for futility at look {} of {} ({} "
                                "pairs): no improvement to expect from more seeds.",
                                r.last.variant, r.last.baseline, metric, r.stop_look + 1, s.looks_planned,
                                r.pairs_used));
    } else {
      out.push_back(fmt::format("Group-sequential: {} does not beat {} on {}: p = {} at the last look, above its "
                                "bound {}.",
                                r.last.variant, r.last.baseline, metric, PValue(r.p), PValue(r.bound_p)));
    }
  }
  return out;
}

std::string IndexPage(const ReportData& d, const ReportAnalysis& a, const SequentialReport& seq,
                      const std::map<std::string, size_t>& index) {
  std::string b = fmt::format("<h1>Sweep {}</h1><p class=\"muted\">from {} · generated {} · record sweep id {}</p>",
                              E(d.sweep_name), E(d.source), E(d.generated_at), d.sweep_id);
  std::vector<std::string> verdicts = SequentialVerdicts(seq);
  for (auto& v : VerdictSentences(a)) verdicts.push_back(std::move(v));
  if (!verdicts.empty()) {
    b += "<section class=\"verdict\"><h2>Verdict</h2><ul>";
    for (const auto& v : verdicts) b += "<li>" + E(v) + "</li>";
    b += "</ul>";
    if (d.store.value("synthetic", d.dataset.contains("synth"))) {
      b += "<p class=\"muted\">" + E(SyntheticCaveat()) + "</p>";
    }
    b += "</section>";
  }
  for (const auto& w : MixedCodeWarnings(d)) b += "<p class=\"fail\">Warning: " + E(w) + "</p>";
  std::vector<const GroupSummary*> main, ablation;
  for (const auto& g : a.groups) (g.role == "ablation" ? ablation : main).push_back(&g);
  const bool all_percent = std::all_of(a.columns.begin(), a.columns.end(), [](const auto& c) { return c.percent; });
  b += fmt::format("<h2>Results on the test set (mean ± sd over runs{})</h2>",
                   all_percent ? ", %" : "; metrics in [0, 1] as %") +
       MetricsTable(main, a.columns, index);
  std::vector<const ComparisonResult*> comps, ablations;
  for (const auto& c : a.comparisons) (c.kind == "ablation" ? ablations : comps).push_back(&c);
  if (!comps.empty()) {
    b += "<h2>Comparisons: matched paired one-tailed t-tests</h2><p class=\"muted\">Pairs matched on partition and "
         "seed; only complete pairs are used. ★: Holm-adjusted p below α over the sweep's family of " +
         std::to_string(a.comparisons.size()) + " test(s); ☆: only the unadjusted p is. pp = percentage points "
         "(metrics in [0, 1]; others in their own units).</p>" +
         ComparisonsTable(comps, a.alpha);
  }
  if (!ablation.empty()) {
    // Only the ablations, and as the reference row the variant they are
    // tested against (the proposed group of their comparisons), not every
    // grid point of the proposed variant.
    std::set<std::string> ablation_labels, references;
    for (const auto* g : ablation) ablation_labels.insert(g->label);
    for (const auto& c : a.comparisons) {
      if (ablation_labels.count(c.baseline)) references.insert(c.variant);
      if (ablation_labels.count(c.variant)) references.insert(c.baseline);
    }
    if (references.empty()) {
      for (const auto* g : main) {
        if (g->role == "proposed") {
          references.insert(g->label);
          break;
        }
      }
    }
    std::vector<const GroupSummary*> rows;
    for (const auto* g : main) {
      if (references.count(g->label)) rows.push_back(g);
    }
    rows.insert(rows.end(), ablation.begin(), ablation.end());
    b += "<h2>Ablations</h2><p class=\"muted\">Each ablation against the reference row, the proposed variant it "
         "removes a part of.</p>" + MetricsTable(rows, a.columns, index, references);
    if (!ablations.empty()) b += ComparisonsTable(ablations, a.alpha);
  }
  b += SequentialSection(seq);
  if (!a.comparisons.empty()) {
    b += fmt::format(
        "<h2>Effect sizes</h2><p class=\"muted\">How often the variant wins, not only whether its mean is "
        "higher. Pairs won: the share of matched pairs (partition, seed) in which the variant beats its "
        "baseline, ties counting one half (Bouthillier et al., MLSys 2021). P(variant &gt; baseline): the "
        "probability that a run of the variant beats a run of the baseline, over all runs of each side, per "
        "partition and averaged (Mann-Whitney, ties one half; rliable's probability of improvement, Agarwal et "
        "al., NeurIPS 2021). IQM: the interquartile mean of each side's runs (the mean of the middle 50%). "
        "Intervals: stratified percentile bootstrap, {} resamples within each partition, seeded by the "
        "comparison (the same on every render). In the tested direction: for a metric where lower is better, "
        "winning means scoring lower.</p>",
        kEffectSizeReps);
    b += EffectSizesTable(a.comparisons);
    b += fmt::format(
        "<h2>Seed planning</h2><p class=\"muted\">Power of the one-tailed matched paired t-test (noncentral t) "
        "with the observed sd of the paired differences. Each pair of figures: at α = {} / at Holm's worst case, "
        "α / {} = {:.4f} (the threshold the family's smallest p must pass). \"Power at the observed diff\" is the "
        "power to detect a true difference as large as the observed one, not the probability that this result "
        "is real. <code>avctl sweep plan SPEC --pilot SWEEP</code> gives the same plan for a spec before it "
        "runs.</p>",
        a.alpha, a.comparisons.size(), a.alpha / static_cast<double>(a.comparisons.size()));
    b += SeedPlanningTable(a.comparisons);
  }
  // Plots.
  b += "<h2>Macro F1 per run</h2><div class=\"plots\">";
  std::vector<BoxGroup> boxes;
  int reference = -1;
  for (size_t i = 0; i < a.groups.size(); ++i) {
    BoxGroup bg;
    bg.label = a.groups[i].label;
    for (const ReportRun* r : RunsOf(d, a.groups[i])) {
      auto it = r->metrics.find("macro_f1");
      if (r->has_result && it != r->metrics.end()) {
        bg.points.push_back({fmt::format("partition {} seed {}", r->partition, r->seed), it->second});
      }
    }
    if (reference < 0 && a.groups[i].role == "proposed") reference = static_cast<int>(i);
    boxes.push_back(std::move(bg));
  }
  b += BoxPlotSvg(boxes, "test macro F1", reference);
  b += "</div><p class=\"muted\">Box: quartiles and median; whiskers: extremes within 1.5 IQR; grey lines join the "
       "proposed variant's run to the baseline's run with the same partition and seed.</p>";
  // Learning curves: mean dev macro F1 per epoch.
  std::vector<LineSeries> curves;
  for (const auto& g : a.groups) {
    std::map<int, std::pair<double, int>> sums;
    for (const ReportRun* r : RunsOf(d, g)) {
      for (const auto& e : r->epochs) {
        sums[e.epoch].first += e.dev_macro_f1;
        ++sums[e.epoch].second;
      }
    }
    LineSeries s;
    s.label = g.label;
    for (const auto& [ep, v] : sums) s.points.push_back({static_cast<double>(ep), v.first / v.second});
    if (!s.points.empty()) curves.push_back(std::move(s));
  }
  if (!curves.empty()) {
    b += "<h2>Learning curves (development macro F1, mean over runs)</h2><div class=\"plots\">" +
         LineChartSvg(curves, "epoch", "dev macro F1") + "</div>";
  }
  // Confusion matrices summed over each group's runs (those with the
  // classes of the group's first run that has one).
  std::string matrices;
  for (const auto& g : a.groups) {
    std::vector<int64_t> sum;
    std::vector<std::string> classes;
    for (const ReportRun* r : RunsOf(d, g)) {
      if (r->confusion.empty()) continue;
      if (sum.empty()) {
        sum.assign(r->confusion.size(), 0);
        classes = r->class_names;
      }
      if (r->confusion.size() != sum.size() || r->class_names != classes) continue;
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += r->confusion[i];
    }
    if (!sum.empty()) {
      matrices += "<div><div>" + E(g.label) + "</div>" + HeatmapSvg(sum, ClassLabels(classes, sum.size()), g.label) +
                  "</div>";
    }
  }
  if (!matrices.empty()) {
    b += "<h2>Confusion matrices (test, summed over runs; rows: true class)</h2><div class=\"plots\">" + matrices +
         "</div>";
  }
  // Metric against each swept hyperparameter: one series per variant (and
  // per value of the other swept parameters), mean and 95% CI per value.
  std::set<std::string> params;
  for (const auto& r : d.runs) {
    for (const auto& [k, v] : r.params) params.insert(k);
  }
  if (!params.empty()) {
    b += "<h2>Macro F1 against the swept hyperparameters</h2><p class=\"muted\">Squares: mean test macro F1 over the "
         "runs at a value; whiskers: its 95% confidence interval (Student t over runs, not paired); dots: the runs. "
         "One series per variant and setting of the other swept parameters.</p><div class=\"plots\">";
    for (const auto& p : params) {
      std::map<std::string, std::map<double, std::vector<double>>> by_series;
      std::vector<std::string> order;
      for (const auto& r : d.runs) {
        auto it = r.params.find(p);
        auto m = r.metrics.find("macro_f1");
        if (it == r.params.end() || m == r.metrics.end() || !r.has_result) continue;
        std::string others;
        for (const auto& [k, v] : r.params) {
          if (k != p) others += fmt::format("{}{}={:g}", others.empty() ? "" : ", ", k, v);
        }
        const std::string key = others.empty() ? r.variant : r.variant + " [" + others + "]";
        if (!by_series.count(key)) order.push_back(key);
        by_series[key][it->second].push_back(m->second);
      }
      std::vector<ParamSeries> series;
      for (const auto& key : order) {
        ParamSeries ps;
        ps.label = key;
        for (const auto& [x, values] : by_series[key]) {
          const MeanInterval ci = MeanConfidenceInterval(values);
          ps.points.push_back({x, values, ci.mean, ci.low, ci.high});
        }
        series.push_back(std::move(ps));
      }
      b += "<div>" + ParamChartSvg(series, p, "test macro F1", d.log_scaled_params.count(p) > 0) + "</div>";
    }
    b += "</div>";
  }
  b += ResourcesSection(d);
  // Provenance.
  b += "<h2>Provenance</h2><table class=\"kv\">";
  const bool synthetic = d.store.value("synthetic", d.dataset.contains("synth"));
  b += fmt::format("<tr><td>data</td><td>{} store{}</td></tr>",
                   synthetic ? "<b>synthetic</b> (generated features, not real ones)" : "real",
                   d.store.contains("clips") ? fmt::format(", {} clips", d.store["clips"].dump()) : "");
  b += fmt::format("<tr><td>dataset (spec)</td><td><code>{}</code></td></tr>", E(d.dataset.dump()));
  if (d.store.contains("audio_checksum")) {
    const std::string visual = d.store.value("visual_checksum", "");
    b += fmt::format("<tr><td>checksums</td><td>audio <code>{}</code>, {}</td></tr>", E(d.store.value("audio_checksum", "")),
                     visual.empty() ? std::string("no video (an audio-only store)")
                                    : fmt::format("visual <code>{}</code>", E(visual)));
  }
  if (d.store.contains("labels")) {  // a store made from a generic or MSP-Podcast labels file
    const auto labels = LabelProvenanceFromJson(d.store["labels"], "store.labels");
    b += fmt::format("<tr><td>labels</td><td>{}</td></tr>",
                     E(labels.ok() ? DescribeLabelProvenance(*labels) : "unreadable: " + labels.status().ToString()));
  }
  std::set<int> partitions;
  for (const auto& r : d.runs) partitions.insert(r.partition);
  std::string parts;
  for (int p : partitions) parts += (parts.empty() ? "" : ", ") + std::to_string(p);
  b += fmt::format("<tr><td>partitions</td><td>{}</td></tr>", parts);
  std::string versions;
  for (const auto& v : d.code_versions) versions += (versions.empty() ? "" : ", ") + E(v);
  b += fmt::format("<tr><td>code version</td><td>{}</td></tr>", versions.empty() ? "-" : versions);
  if (!d.cpu_kernels.empty()) {
    std::string caps;
    for (const auto& [cap, n] : d.cpu_kernels) caps += fmt::format("{}{} ({} runs)", caps.empty() ? "" : ", ", E(cap), n);
    caps += d.cpu_kernels.size() > 1
                ? " <span class=\"raw\">mixed: CPU kernels of different vector widths and BLAS core types round "
                  "differently, so runs of one job on these machines agree statistically, not bit for bit</span>"
                : " <span class=\"muted\">(a CPU rerun is bit-identical only on a machine with the same kernels and "
                  "thread count)</span>";
    b += "<tr><td>CPU kernels</td><td>" + caps + "</td></tr>";
  }
  std::string workers;
  for (const auto& w : d.workers) {
    std::string dev = w.value("device", "");
    if (!w.value("gpu_name", "").empty()) dev += " " + w.value("gpu_name", "");
    workers += (workers.empty() ? "" : "; ") + E(w.value("id", "")) + " (" + E(w.value("hostname", "")) + ", " +
               E(dev) + ")";
  }
  b += fmt::format("<tr><td>workers</td><td>{}</td></tr>", workers.empty() ? "-" : workers);
  b += fmt::format("<tr><td>wall time</td><td>{:.1f} min (first dispatch to last result)</td></tr>",
                   d.wall_seconds / 60);
  b += fmt::format("<tr><td>GPU hours</td><td>{:.3f}</td></tr><tr><td>CPU job hours</td><td>{:.3f}</td></tr>",
                   d.gpu_hours, d.cpu_hours);
  b += "</table>" + RestartsSection(d) + "<h2>Exports</h2><p><a href=\"table.csv\">table.csv</a> · <a href=\"table.json\">table.json</a> · "
       "<a href=\"table.tex\">table.tex</a> (LaTeX)</p>";
  return Page("Sweep " + d.sweep_name, b);
}

std::string VariantPage(const ReportData& d, const GroupSummary& g) {
  std::string b = fmt::format("<p><a href=\"index.html\">← sweep {}</a></p><h1>{}</h1><p class=\"muted\">role {}; "
                              "{} runs, {} done, {} failed</p>",
                              E(d.sweep_name), E(g.label), E(g.role), g.runs, g.done, g.failed);
  std::string preset;
  for (const auto& v : d.variants) {
    if (v.name == g.variant) preset = v.preset;
  }
  if (!preset.empty()) b += CardSection(preset);
  HtmlTable t({"job", "seed", "partition", "state", "attempts", "epoch (selected / run)", "macro F1", "micro F1",
               "accuracy", "worker", "device", "seconds", "reason"},
              "sortable");
  for (const ReportRun* r : RunsOf(d, g)) {
    auto metric = [&](const char* m) {
      auto it = r->metrics.find(m);
      return it == r->metrics.end() ? HtmlCell{"-"} : NumberCell(it->second, fmt::format("{:.2f}", 100 * it->second));
    };
    t.AddRow({{E(r->key), "wrap"},
              NumberCell(static_cast<double>(r->seed), std::to_string(r->seed)),
              NumberCell(r->partition, std::to_string(r->partition)),
              {E(r->state), r->state == "failed" ? "fail" : ""},
              NumberCell(r->attempts, std::to_string(r->attempts)),
              {fmt::format("{} / {}", r->selected_epoch, r->epochs.size())},
              metric("macro_f1"),
              metric("micro_f1"),
              metric("accuracy"),
              {E(r->worker)},
              {E(r->device)},
              NumberCell(r->seconds, fmt::format("{:.1f}", r->seconds)),
              {E(r->reason), "fail wrap"}});
  }
  b += t.Render();
  if (!g.per_class.empty()) {
    HtmlTable pc({"class", "precision", "recall", "F1", "support (clips per run)"}, "sortable");
    for (const ClassRow& c : g.per_class) {
      pc.AddRow({{E(c.name), "wrap"},
                 NumberCell(c.precision.mean, Pct(c.precision)),
                 NumberCell(c.recall.mean, Pct(c.recall)),
                 NumberCell(c.f1.mean, Pct(c.f1)),
                 NumberCell(c.support, fmt::format("{:.1f}", c.support))});
    }
    b += fmt::format("<h2>Per class (test, mean ± sd over {} runs, %)</h2>", g.per_class.front().f1.n) + pc.Render();
  }
  return Page(d.sweep_name + ": " + g.label, b);
}

std::string LatexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': case '%': case '$': case '#': case '_': case '{': case '}': out += '\\'; out += c; break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '\\': out += "\\textbackslash{}"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string MainTableCsv(const ReportAnalysis& a) {
  std::string s = "architecture,role,runs";
  for (const auto& c : a.columns) s += "," + CsvField(c.name + "_mean") + "," + CsvField(c.name + "_sd");
  s += "\n";
  for (const auto& g : a.groups) {
    s += CsvField(g.label) + "," + CsvField(g.role) + "," + std::to_string(g.done);
    for (const auto& c : a.columns) {
      const MetricSummary ms = Get(g, c.name);
      s += ms.n ? fmt::format(",{:.6f},{:.6f}", ms.mean, ms.sd) : std::string(",,");
    }
    s += "\n";
  }
  return s;
}

Json IntervalJson(const EffectInterval& e) {
  if (!e.defined) return nullptr;
  return {{"estimate", e.estimate}, {"ci95", {e.low, e.high}}};
}

Json EffectSizesJson(const ComparisonResult& c) {
  return {{"pairs_won", IntervalJson(c.paired_wins)},
          {"probability_of_improvement", IntervalJson(c.improvement)},
          {"iqm_variant", IntervalJson(c.iqm_variant)},
          {"iqm_baseline", IntervalJson(c.iqm_baseline)},
          {"bootstrap", {{"method", "stratified percentile"}, {"strata", "partition"}, {"reps", kEffectSizeReps}}}};
}

Json SequentialJson(const SequentialReport& s) {
  Json tests = Json::array();
  for (const auto& r : s.tests) {
    Json rcis = Json::array();
    for (const auto& i : r.intervals) {
      rcis.push_back({{"look", i.look + 1}, {"pairs", i.pairs},
                      {"interval", i.rci.defined ? Json({i.rci.low, i.rci.high}) : Json(nullptr)}});
    }
    tests.push_back({{"variant", r.last.variant}, {"baseline", r.last.baseline}, {"metric", r.last.metric},
                     {"direction", r.last.direction}, {"decision", r.last.decision},
                     {"stop_look", r.decided ? Json(r.stop_look + 1) : Json(nullptr)}, {"pairs_used", r.pairs_used},
                     {"pairs_fixed", r.pairs_fixed}, {"p", NumberOrNonFinite(r.p)}, {"bound_p", r.bound_p},
                     {"t", NumberOrNonFinite(r.t)}, {"t_bound", NumberOrNonFinite(r.t_bound)}, {"mean_diff", r.mean},
                     {"sd_diff", r.sd},
                     {"final", r.final.defined ? Json{{"p", r.final.p}, {"estimate", r.final.estimate},
                                                      {"ci", {r.final.ci_low, r.final.ci_high}}}
                                               : Json(nullptr)},
                     {"repeated_ci", rcis}});
  }
  return {{"design", s.design}, {"looks_analysed", s.looks_analysed}, {"looks_planned", s.looks_planned},
          {"jobs_not_needed", s.jobs_not_needed}, {"seconds_saved", s.seconds_saved}, {"overrun", s.overrun},
          {"tests", tests}};
}

std::string MainTableJson(const ReportData& d, const ReportAnalysis& a) {
  Json groups = Json::array();
  for (const auto& g : a.groups) {
    Json m = Json::object();
    for (const auto& [k, v] : g.metrics) m[k] = {{"n", v.n}, {"mean", v.mean}, {"sd", v.sd}};
    groups.push_back({{"architecture", g.label}, {"variant", g.variant}, {"point", g.point}, {"role", g.role},
                      {"runs", g.runs}, {"done", g.done}, {"failed", g.failed}, {"metrics", m}});
  }
  Json comps = Json::array();
  for (const auto& c : a.comparisons) {
    comps.push_back({{"kind", c.kind}, {"variant", c.variant}, {"baseline", c.baseline}, {"metric", c.metric},
                     {"direction", TailName(c.tail)}, {"pairs", c.pairs.x.size()},
                     {"unpaired", c.pairs.unmatched_x + c.pairs.unmatched_y}, {"defined", c.t.defined},
                     {"mean_diff", c.t.mean_diff}, {"sd_diff", c.t.sd_diff},
                     {"t", NumberOrNonFinite(c.t.t)}, {"df", c.t.df},
                     {"p", c.t.p}, {"p_holm", c.p_holm}, {"ci95", {c.t.ci_low, c.t.ci_high}},
                     {"dz", NumberOrNonFinite(c.t.dz)},
                     {"wilcoxon_p", c.wilcoxon.p}, {"wilcoxon_exact", c.wilcoxon.exact},
                     {"significant", c.significant}, {"note", c.t.note},
                     {"effect_sizes", EffectSizesJson(c)}});
  }
  Json out = {{"sweep", d.sweep_name}, {"alpha", a.alpha}, {"groups", groups}, {"comparisons", comps}};
  const SequentialReport seq = AnalyseSequential(d, a);
  if (seq.present) out["sequential"] = SequentialJson(seq);
  return out.dump(2) + "\n";
}

std::string MainTableLatex(const ReportData& d, const ReportAnalysis& a) {
  const bool paper = a.columns.size() == TableMetrics().size() &&
                     std::equal(a.columns.begin(), a.columns.end(), TableMetrics().begin(),
                                [](const MetricColumn& c, const std::string& m) { return c.name == m; });
  // The metric the star marks: the paper's macro F1, else the first compared one.
  const std::string starred = paper || a.comparisons.empty() ? "macro_f1" : a.comparisons.front().metric;
  std::string s = fmt::format(
      "% Sweep {}: test-set metrics, mean $\\pm$ sd over runs ({}). Generated by avctl.\n"
      "% $^{{*}}$: better than every baseline it was compared with, one-tailed matched paired t-test, "
      "Holm-adjusted p < {}.\n",
      LatexEscape(d.sweep_name), paper ? "%" : "metrics in [0, 1] as %", a.alpha);
  if (paper) {
    s += "\\begin{tabular}{lcccccc}\n\\hline\n"
         " & \\multicolumn{3}{c}{Macro} & \\multicolumn{3}{c}{Micro} \\\\\n"
         "Architecture & Prec & Rec & F1 & Prec & Rec & F1 \\\\\n\\hline\n";
  } else {
    s += "\\begin{tabular}{l" + std::string(a.columns.size(), 'c') + "}\n\\hline\nArchitecture";
    for (const auto& c : a.columns) s += " & " + LatexEscape(c.label);
    s += " \\\\\n\\hline\n";
  }
  for (const auto& g : a.groups) {
    bool all_sig = false, any = false;
    for (const auto& c : a.comparisons) {
      if (c.variant != g.label || c.kind != "comparison") continue;
      if (!any) all_sig = true;
      any = true;
      all_sig = all_sig && c.significant;
    }
    s += LatexEscape(g.label);
    for (const auto& c : a.columns) {
      const MetricSummary ms = Get(g, c.name);
      std::string cell = !ms.n ? "--" : c.percent ? fmt::format("{:.1f}", 100 * ms.mean) : fmt::format("{:.4g}", ms.mean);
      if (c.name == starred && any && all_sig) cell += "$^{*}$";
      s += " & " + cell;
    }
    s += " \\\\\n";
  }
  return s + "\\hline\n\\end{tabular}\n";
}

std::map<std::string, std::string> RenderReport(const ReportData& data, const ReportAnalysis& analysis) {
  std::map<std::string, std::string> files;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < analysis.groups.size(); ++i) index[analysis.groups[i].label] = i;
  files["index.html"] = IndexPage(data, analysis, AnalyseSequential(data, analysis), index);
  for (size_t i = 0; i < analysis.groups.size(); ++i) files[GroupFile(i)] = VariantPage(data, analysis.groups[i]);
  files["table.csv"] = MainTableCsv(analysis);
  files["table.json"] = MainTableJson(data, analysis);
  files["table.tex"] = MainTableLatex(data, analysis);
  return files;
}

}  // namespace avctl
