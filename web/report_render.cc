#include "web/report_render.h"

#include <cmath>
#include <set>

#include <fmt/format.h>

#include "common/emotions.h"
#include "common/text.h"
#include "web/model_cards.h"
#include "web/resource_needs.h"
#include "web/svg.h"
#include "web/verdict.h"

namespace avctl {

namespace {

const char* kStyle = R"CSS(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:4px 9px;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
td:first-child,th:first-child{text-align:left}th{background:#f4f4f4;cursor:pointer;user-select:none}
.sig{color:#0a7d33;font-weight:600}.raw{color:#b06d00}.ns{color:#888}.fail{color:#b3261e}
.muted{color:#666;font-size:12px}.verdict{border-left:4px solid #2a6;background:#f4faf6;padding:6px 14px;margin:12px 0}.verdict h2{margin-top:4px}.verdict li{margin:4px 0}.plots{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.scroll{overflow-x:auto;max-width:100%}.kv td{text-align:left}.role{font-size:11px;color:#666}code{background:#f4f4f4;padding:1px 4px}
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
                     "content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{}</style></head><body>"
                     "{}<script>{}</script></body></html>\n",
                     E(title), kStyle, body, kSortScript);
}

std::string GroupFile(size_t i) { return fmt::format("variant-{}.html", i + 1); }

std::string MetricsTable(const std::vector<const GroupSummary*>& groups,
                         const std::map<std::string, size_t>& index) {
  std::string s = "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>Architecture</th><th>runs</th><th>Macro Prec</th>"
                  "<th>Macro Rec</th><th>Macro F1</th><th>Micro Prec</th><th>Micro Rec</th><th>Micro F1</th></tr>"
                  "</thead><tbody>";
  for (const GroupSummary* g : groups) {
    s += fmt::format("<tr><td><a href=\"{}\">{}</a> <span class=\"role\">{}</span> <a class=\"muted\" "
                     "href=\"{}#card\">card</a></td><td data-v=\"{}\">{}{}</td>",
                     GroupFile(index.at(g->label)), E(g->label), E(g->role), GroupFile(index.at(g->label)), g->done,
                     g->done,
                     g->failed > 0 ? fmt::format(" <span class=\"fail\">({} failed)</span>", g->failed) : "");
    for (const auto& m : TableMetrics()) {
      const MetricSummary ms = Get(*g, m);
      s += fmt::format("<td data-v=\"{:.6f}\">{}</td>", ms.mean, Pct(ms));
    }
    s += "</tr>";
  }
  return s + "</tbody></table></div>";
}

std::string ComparisonsTable(const std::vector<const ComparisonResult*>& cs, double alpha) {
  std::string s = fmt::format(
      "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>variant</th><th>baseline</th><th>metric</th><th>pairs</th>"
      "<th>mean diff (pp)</th><th>95% CI (pp)</th><th>t</th><th>df</th><th>p (one-tailed)</th><th>p (Holm)</th>"
      "<th>d<sub>z</sub></th><th>Wilcoxon p</th><th>at α = {}</th></tr></thead><tbody>", alpha);
  for (const ComparisonResult* c : cs) {
    std::string missing;
    if (c->pairs.unmatched_x + c->pairs.unmatched_y > 0) {
      missing = fmt::format(" <span class=\"muted\">({} unpaired)</span>", c->pairs.unmatched_x + c->pairs.unmatched_y);
    }
    std::string mark = !c->t.defined         ? "<span class=\"ns\">n/a: " + E(c->t.note) + "</span>"
                       : c->significant      ? "<span class=\"sig\">★ significant</span>"
                       : c->significant_raw  ? "<span class=\"raw\">☆ raw p only</span>"
                                             : "<span class=\"ns\">not significant</span>";
    s += fmt::format("<tr><td>{}</td><td>{}</td><td>{} ({})</td><td data-v=\"{}\">{}{}</td>", E(c->variant),
                     E(c->baseline), E(c->metric), TailName(c->tail), c->pairs.x.size(), c->pairs.x.size(), missing);
    if (c->t.defined) {
      s += fmt::format("<td data-v=\"{:.6f}\">{:+.2f}</td><td>[{:+.2f}, {:+.2f}]</td><td data-v=\"{:.6f}\">{:.2f}</td>"
                       "<td>{:.0f}</td><td data-v=\"{:.3e}\">{}</td><td data-v=\"{:.3e}\">{}</td>"
                       "<td data-v=\"{:.6f}\">{:.2f}</td><td>{}</td>",
                       c->t.mean_diff, 100 * c->t.mean_diff, 100 * c->t.ci_low, 100 * c->t.ci_high,
                       std::isfinite(c->t.t) ? c->t.t : 1e9, c->t.t, c->t.df, c->t.p, PValue(c->t.p), c->p_holm,
                       PValue(c->p_holm), std::isfinite(c->t.dz) ? c->t.dz : 1e9, c->t.dz,
                       c->wilcoxon.defined ? PValue(c->wilcoxon.p) : "-");
    } else {
      s += "<td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td>";
    }
    s += fmt::format("<td>{}</td></tr>", mark);
  }
  return s + "</tbody></table></div>";
}

// Pairs as a number, or "none suffices" when no count up to the planning
// cap reaches 80% power (a difference of 0 or in the wrong direction).
std::string Pairs(int n) { return n > 0 ? std::to_string(n) : "<span class=\"muted\">none suffices</span>"; }

std::string Power(double p) { return std::isfinite(p) ? fmt::format("{:.0f}%", 100 * p) : "-"; }

// Seed planning: what the sweep's n can detect and what it would take.
std::string SeedPlanningTable(const std::vector<ComparisonResult>& cs) {
  std::string s =
      "<div class=\"scroll\"><table><thead><tr><th>variant</th><th>baseline</th><th>pairs</th>"
      "<th>observed diff (pp)</th><th>sd of diffs (pp)</th><th>power at the observed diff</th>"
      "<th>detectable at 80% (pp)</th><th>pairs for 80% at the observed diff</th><th>min_effect (pp)</th>"
      "<th>power at min_effect</th><th>pairs for 80% at min_effect</th></tr></thead><tbody>";
  bool any_min_effect = false;
  for (const auto& c : cs) {
    const SeedPlan& p = c.plan;
    s += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td>", E(c.variant), E(c.baseline), p.n);
    if (!p.defined) {
      s += "<td colspan=\"8\" class=\"muted\">fewer than 2 matched pairs: no test, no plan</td></tr>";
      continue;
    }
    // Each figure: at α, then Holm's worst case (α / family size) after the slash.
    s += fmt::format("<td>{:+.2f}</td><td>{:.2f}</td><td>{} / {}</td><td>{:.2f} / {:.2f}</td><td>{} / {}</td>",
                     100 * p.observed, 100 * p.sd, Power(p.power), Power(p.power_holm), 100 * p.detectable,
                     100 * p.detectable_holm, Pairs(p.pairs), Pairs(p.pairs_holm));
    if (p.min_effect > 0) {
      any_min_effect = true;
      s += fmt::format("<td>{:.2f}</td><td>{} / {}</td><td>{} / {}</td></tr>", 100 * p.min_effect,
                       Power(p.power_min_effect), Power(p.power_min_effect_holm), Pairs(p.pairs_min_effect),
                       Pairs(p.pairs_min_effect_holm));
    } else {
      s += "<td>-</td><td>-</td><td>-</td></tr>";
    }
  }
  s += "</tbody></table></div>";
  if (!any_min_effect) {
    s += "<p class=\"muted\">Set <code>comparisons[].min_effect</code> in the spec (metric units, e.g. 0.02 for "
         "2 pp) to see the pairs needed for the smallest difference worth detecting.</p>";
  }
  return s;
}

std::vector<std::string> EmotionCodes() {
  std::vector<std::string> out;
  for (int i = 0; i < kNumEmotions; ++i) out.emplace_back(EmotionCode(*EmotionFromIndex(i)));
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
  auto rows = [&](const std::vector<CardRow>& rs, bool approximations_only) {
    std::string t;
    for (const auto& r : rs) {
      if (approximations_only && !r.approximation) continue;
      t += fmt::format("<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}{}</td></tr>",
                       E(r.setting), E(r.value.dump()), InlineMarkdown(r.source), InlineMarkdown(r.why),
                       r.approximation ? " <span class=\"raw\">approximation</span>" : "");
    }
    return t;
  };
  const std::string head = "<div class=\"scroll\"><table><thead><tr><th>setting</th><th>value</th><th>source</th>"
                           "<th>why</th></tr></thead><tbody>";
  const std::string own = rows(card->rows, false);
  b += own.empty() ? "<p>Every setting as in the Defaults card.</p>"
                   : "<p>Settings that differ from the Defaults card:</p>" + head + own + "</tbody></table></div>";
  if (const ModelCard* defaults = FindModelCard("Defaults"); defaults != nullptr && preset != "Defaults") {
    const std::string approx = rows(defaults->rows, true);
    if (!approx.empty()) {
      b += "<p>Approximations it shares with every variant (Defaults card):</p>" + head + approx + "</tbody></table></div>";
    }
  }
  b += "<p class=\"muted\">From docs/MODELS.md as built into this avctl; the spec's overrides for this variant "
       "apply on top (see the runs' configs).</p>";
  return b;
}

// Per variant: what its measured jobs took, and the GPU memory to declare.
std::string ResourcesSection(const ReportData& d) {
  const std::vector<VariantResources> rs = SummarizeResources(d);
  if (rs.empty()) return "";
  std::string b =
      "<h2>Resources</h2><table><thead><tr><th>variant</th><th>runs</th><th>devices</th><th>train clips/s "
      "(median)</th><th>waiting for data</th><th>peak RSS</th><th>peak GPU memory</th><th>deterministic</th>"
      "<th>declare <code>resources.gpu_memory_mb</code></th></tr></thead><tbody>";
  bool any_gpu = false;
  for (const auto& v : rs) {
    std::string devices;
    for (const auto& x : v.devices) devices += (devices.empty() ? "" : ", ") + E(x);
    any_gpu = any_gpu || v.gpu_runs > 0;
    b += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}</td><td>{}</td><td>{:.0f} MiB</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>",
        E(v.variant), v.measured, devices, v.median_clips_per_s,
        v.median_data_wait_share >= 0 ? fmt::format("{:.1f}%", 100 * v.median_data_wait_share) : "-",
        v.max_peak_rss_mib, v.gpu_runs > 0 ? fmt::format("{:.0f} MiB (max of {})", v.max_peak_device_mib, v.gpu_runs) : "-",
        v.all_deterministic ? "yes" : "no", v.gpu_runs > 0 ? std::to_string(v.suggested_gpu_memory_mb) : "-");
  }
  b += "</tbody></table>";
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
      "epochs its last checkpoint kept).</p><div class=\"scroll\"><table><thead><tr><th>job</th><th>attempt</th>"
      "<th>worker</th><th>state</th><th>resumed from</th><th>last checkpoint</th><th>seconds</th><th>lost s</th>"
      "<th>reason</th></tr></thead><tbody>",
      ended, resumed, lost / 3600);
  for (const auto& r : d.restarts) {
    b += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}</td>"
                     "<td>{:.1f}</td><td>{}</td></tr>",
                     E(r.job_key), r.attempt_id, E(r.worker), E(r.state), Position(r.resumed_epochs, r.resumed_batches),
                     Position(r.checkpoint_epochs, r.checkpoint_batches), r.seconds, r.lost_seconds, E(r.reason));
  }
  return b + "</tbody></table></div>";
}

std::string IndexPage(const ReportData& d, const ReportAnalysis& a, const std::map<std::string, size_t>& index) {
  std::string b = fmt::format("<h1>Sweep {}</h1><p class=\"muted\">from {} · generated {} · record sweep id {}</p>",
                              E(d.sweep_name), E(d.source), E(d.generated_at), d.sweep_id);
  const std::vector<std::string> verdicts = VerdictSentences(a);
  if (!verdicts.empty()) {
    b += "<section class=\"verdict\"><h2>Verdict</h2><ul>";
    for (const auto& v : verdicts) b += "<li>" + E(v) + "</li>";
    b += "</ul>";
    if (d.store.value("synthetic", d.dataset.contains("synth"))) {
      b += "<p class=\"muted\">" + E(SyntheticCaveat()) + "</p>";
    }
    b += "</section>";
  }
  std::vector<const GroupSummary*> main, ablation;
  for (const auto& g : a.groups) (g.role == "ablation" ? ablation : main).push_back(&g);
  b += "<h2>Results on the test set (mean ± sd over runs, %)</h2>" + MetricsTable(main, index);
  std::vector<const ComparisonResult*> comps, ablations;
  for (const auto& c : a.comparisons) (c.kind == "ablation" ? ablations : comps).push_back(&c);
  if (!comps.empty()) {
    b += "<h2>Comparisons: matched paired one-tailed t-tests</h2><p class=\"muted\">Pairs matched on partition and "
         "seed; only complete pairs are used. ★: Holm-adjusted p below α over the sweep's family of " +
         std::to_string(a.comparisons.size()) + " test(s); ☆: only the unadjusted p is. pp = percentage points.</p>" +
         ComparisonsTable(comps, a.alpha);
  }
  if (!ablation.empty()) {
    std::vector<const GroupSummary*> with_proposed;
    for (const auto* g : main) {
      if (g->role == "proposed") with_proposed.push_back(g);
    }
    with_proposed.insert(with_proposed.end(), ablation.begin(), ablation.end());
    b += "<h2>Ablations</h2>" + MetricsTable(with_proposed, index);
    if (!ablations.empty()) b += ComparisonsTable(ablations, a.alpha);
  }
  if (!a.comparisons.empty()) {
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
  // Confusion matrices summed over each group's runs.
  b += "<h2>Confusion matrices (test, summed over runs; rows: true class)</h2><div class=\"plots\">";
  for (const auto& g : a.groups) {
    std::vector<int64_t> sum(kNumEmotions * kNumEmotions, 0);
    bool any = false;
    for (const ReportRun* r : RunsOf(d, g)) {
      if (r->confusion.size() != sum.size()) continue;
      any = true;
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += r->confusion[i];
    }
    if (any) b += "<div><div>" + E(g.label) + "</div>" + HeatmapSvg(sum, EmotionCodes(), g.label) + "</div>";
  }
  b += "</div>";
  // Metric against each swept hyperparameter.
  std::set<std::string> params;
  for (const auto& r : d.runs) {
    for (const auto& [k, v] : r.params) params.insert(k);
  }
  if (!params.empty()) {
    b += "<h2>Macro F1 against the swept hyperparameters</h2><div class=\"plots\">";
    for (const auto& p : params) {
      std::vector<std::pair<double, double>> pts;
      double lo = 1e300, hi = -1e300;
      for (const auto& r : d.runs) {
        auto it = r.params.find(p);
        auto m = r.metrics.find("macro_f1");
        if (it == r.params.end() || m == r.metrics.end() || !r.has_result) continue;
        pts.push_back({it->second, m->second});
        lo = std::min(lo, it->second);
        hi = std::max(hi, it->second);
      }
      b += ScatterSvg(pts, p, "test macro F1", lo > 0 && hi / lo >= 100);
    }
    b += "</div>";
  }
  b += ResourcesSection(d);
  // Provenance.
  b += "<h2>Provenance</h2><table class=\"kv\">";
  const bool synthetic = d.store.value("synthetic", d.dataset.contains("synth"));
  b += fmt::format("<tr><td>data</td><td>{} store{}</td></tr>",
                   synthetic ? "<b>synthetic</b> (CREMA-D-shaped, not real features)" : "real",
                   d.store.contains("clips") ? fmt::format(", {} clips", d.store["clips"].dump()) : "");
  b += fmt::format("<tr><td>dataset (spec)</td><td><code>{}</code></td></tr>", E(d.dataset.dump()));
  if (d.store.contains("audio_checksum")) {
    b += fmt::format("<tr><td>checksums</td><td>audio <code>{}</code>, visual <code>{}</code></td></tr>",
                     E(d.store.value("audio_checksum", "")), E(d.store.value("visual_checksum", "")));
  }
  std::set<int> partitions;
  for (const auto& r : d.runs) partitions.insert(r.partition);
  std::string parts;
  for (int p : partitions) parts += (parts.empty() ? "" : ", ") + std::to_string(p);
  b += fmt::format("<tr><td>partitions</td><td>{}</td></tr>", parts);
  std::string versions;
  for (const auto& v : d.code_versions) versions += (versions.empty() ? "" : ", ") + E(v);
  b += fmt::format("<tr><td>code version</td><td>{}</td></tr>", versions.empty() ? "-" : versions);
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
  b += "<table class=\"sortable\"><thead><tr><th>job</th><th>seed</th><th>partition</th><th>state</th>"
       "<th>attempts</th><th>epoch (selected / run)</th><th>macro F1</th><th>micro F1</th><th>accuracy</th>"
       "<th>worker</th><th>device</th><th>seconds</th><th>reason</th></tr></thead><tbody>";
  for (const ReportRun* r : RunsOf(d, g)) {
    auto metric = [&](const char* m) {
      auto it = r->metrics.find(m);
      return it == r->metrics.end() ? std::string("<td>-</td>")
                                    : fmt::format("<td data-v=\"{:.6f}\">{:.2f}</td>", it->second, 100 * it->second);
    };
    b += fmt::format("<tr><td>{}</td><td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td class=\"{}\">{}</td>"
                     "<td data-v=\"{}\">{}</td><td>{} / {}</td>{}{}{}<td>{}</td><td>{}</td><td data-v=\"{:.3f}\">"
                     "{:.1f}</td><td class=\"fail\">{}</td></tr>",
                     E(r->key), r->seed, r->seed, r->partition, r->partition, r->state == "failed" ? "fail" : "",
                     E(r->state), r->attempts, r->attempts, r->selected_epoch, r->epochs.size(), metric("macro_f1"),
                     metric("micro_f1"), metric("accuracy"), E(r->worker), E(r->device), r->seconds, r->seconds,
                     E(r->reason));
  }
  b += "</tbody></table>";
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
  for (const auto& m : TableMetrics()) s += "," + m + "_mean," + m + "_sd";
  s += "\n";
  for (const auto& g : a.groups) {
    s += CsvField(g.label) + "," + CsvField(g.role) + "," + std::to_string(g.done);
    for (const auto& m : TableMetrics()) {
      const MetricSummary ms = Get(g, m);
      s += ms.n ? fmt::format(",{:.6f},{:.6f}", ms.mean, ms.sd) : std::string(",,");
    }
    s += "\n";
  }
  return s;
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
                     {"t", std::isfinite(c.t.t) ? Json(c.t.t) : Json(c.t.t > 0 ? "inf" : "-inf")}, {"df", c.t.df},
                     {"p", c.t.p}, {"p_holm", c.p_holm}, {"ci95", {c.t.ci_low, c.t.ci_high}},
                     {"dz", std::isfinite(c.t.dz) ? Json(c.t.dz) : Json(c.t.dz > 0 ? "inf" : "-inf")},
                     {"wilcoxon_p", c.wilcoxon.p}, {"wilcoxon_exact", c.wilcoxon.exact},
                     {"significant", c.significant}, {"note", c.t.note}});
  }
  return Json{{"sweep", d.sweep_name}, {"alpha", a.alpha}, {"groups", groups}, {"comparisons", comps}}.dump(2) + "\n";
}

std::string MainTableLatex(const ReportData& d, const ReportAnalysis& a) {
  std::string s = fmt::format(
      "% Sweep {}: test-set metrics, mean $\\pm$ sd over runs (%). Generated by avctl.\n"
      "% $^{{*}}$: better than every baseline it was compared with, one-tailed matched paired t-test, "
      "Holm-adjusted p < {}.\n"
      "\\begin{{tabular}}{{lcccccc}}\n\\hline\n"
      " & \\multicolumn{{3}}{{c}}{{Macro}} & \\multicolumn{{3}}{{c}}{{Micro}} \\\\\n"
      "Architecture & Prec & Rec & F1 & Prec & Rec & F1 \\\\\n\\hline\n",
      LatexEscape(d.sweep_name), a.alpha);
  for (const auto& g : a.groups) {
    bool all_sig = false, any = false;
    for (const auto& c : a.comparisons) {
      if (c.variant != g.label || c.kind != "comparison") continue;
      if (!any) all_sig = true;
      any = true;
      all_sig = all_sig && c.significant;
    }
    s += LatexEscape(g.label);
    for (const auto& m : TableMetrics()) {
      const MetricSummary ms = Get(g, m);
      std::string cell = ms.n ? fmt::format("{:.1f}", 100 * ms.mean) : "--";
      if (m == "macro_f1" && any && all_sig) cell += "$^{*}$";
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
  files["index.html"] = IndexPage(data, analysis, index);
  for (size_t i = 0; i < analysis.groups.size(); ++i) files[GroupFile(i)] = VariantPage(data, analysis.groups[i]);
  files["table.csv"] = MainTableCsv(analysis);
  files["table.json"] = MainTableJson(data, analysis);
  files["table.tex"] = MainTableLatex(data, analysis);
  return files;
}

}  // namespace avctl
