// The report from a fixture record: a sweep written through the real
// Record with known metrics, so tables, significance marks and escaping
// can be checked exactly.
#include <filesystem>
#include <functional>
#include <map>

#include <fmt/format.h>

#include <gtest/gtest.h>

#include "db/record.h"
#include "web/report_analysis.h"
#include "web/report_loader.h"
#include "web/html_table.h"
#include "web/report_render.h"
#include "web/svg.h"
#include "tests/web/report_fixture.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

TEST_F(ReportTest, LoadsRunsWithMetricsFailuresAndProvenance) {
  BuildFixture(6);
  ReportData d = Load();
  EXPECT_EQ(d.sweep_name, "fixture");
  EXPECT_EQ(d.runs.size(), 18u);
  ASSERT_EQ(d.variants.size(), 3u);
  EXPECT_EQ(d.variants[0].name, kHostile);
  int failed = 0;
  for (const auto& r : d.runs) {
    if (r.state == "failed") {
      ++failed;
      EXPECT_NE(r.reason.find("NaN loss"), std::string::npos);
      EXPECT_FALSE(r.has_result);
    }
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(d.code_versions, std::vector<std::string>{"abc123"});
  EXPECT_TRUE(d.store.value("synthetic", false));
  EXPECT_FALSE(d.store.contains("dir"));
  EXPECT_GT(d.wall_seconds, 0);
  // Job hours count the worker's compute time of a result (8 s each, though
  // dispatch to result took 10 s) and the dispatch-to-end span of attempts
  // without one (the failure: 5 s).
  for (const auto& r : d.runs) {
    if (r.has_result) {
      EXPECT_DOUBLE_EQ(r.seconds, 8.0) << r.key;
    }
  }
  EXPECT_NEAR(d.cpu_hours * 3600, 17 * 8.0 + 5.0, 1e-6);
  EXPECT_DOUBLE_EQ(d.gpu_hours, 0);
  EXPECT_FALSE(LoadReportData(store_.get(), "nope").ok());
}

TEST(ReportRestarts, ARestartShowsWhereEachAttemptBeganAndLeftOffAndTheComputeLost) {
  const auto dir = testutil::FreshTestDir("report_restarts");
  auto record = Record::Open((dir / "record.db").string());
  ASSERT_TRUE(record.ok());
  Record& r = **record;
  Json spec_json = {{"name", "restarts"}, {"dataset", {{"synth", {{"profile", "tiny"}}}}},
                    {"variants", {{{"name", "ladder_av"}, {"role", "proposed"}}}}, {"seeds", 1}};
  auto spec = ParseSweepSpec(spec_json, "r.json");
  ASSERT_TRUE(spec.ok());
  ASSERT_TRUE(r.SubmitSweep(*spec, spec_json, *ExpandSweep(*spec), "r.json", 0.0).ok());
  const int64_t job = (*r.QueuedJobs())[0].job_id;
  // Attempt 1: three epochs of 10 s, a checkpoint after epoch 2, preempted at 40 s.
  auto a1 = r.Dispatch(job, "w1", 100.0);
  ASSERT_TRUE(a1.ok());
  for (int e = 1; e <= 3; ++e) {
    ASSERT_TRUE(r.RecordProgress(a1->attempt_id, {{"epoch", e}, {"seconds", 10.0}}, 100.0 + 10 * e).ok());
  }
  ASSERT_TRUE(r.RecordProgress(a1->attempt_id, {{"epoch", 2}, {"checkpoint", {{"path", "/c/epoch-0002.ckpt"},
                                                {"epochs", 2}, {"batches", 0}}}}, 121.0).ok());
  ASSERT_TRUE(r.RecordFailure(a1->attempt_id, FailureKind::kPreempted, "stopped by signal 15", "w1", 140.0).ok());
  // Attempt 2 resumes there and succeeds.
  auto a2 = r.Dispatch(job, "w2", 150.0);
  ASSERT_TRUE(a2.ok());
  ASSERT_TRUE(r.RecordProgress(a2->attempt_id, {{"epoch", 2}, {"resumed", {{"path", "/c/epoch-0002.ckpt"},
                                                {"epochs", 2}, {"batches", 0}, {"attempt_id", a1->attempt_id}}}},
                               151.0).ok());
  auto d = LoadReportData(&r, "restarts");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->restarts.size(), 2u);
  EXPECT_EQ(d->restarts[0].state, "preempted");
  EXPECT_EQ(d->restarts[0].checkpoint_epochs, 2);
  EXPECT_DOUBLE_EQ(d->restarts[0].seconds, 40.0);
  EXPECT_DOUBLE_EQ(d->restarts[0].lost_seconds, 20.0);  // 40 s less the two epochs (20 s) kept
  EXPECT_EQ(d->restarts[1].resumed_epochs, 2);
  EXPECT_DOUBLE_EQ(d->restarts[1].lost_seconds, 0.0);
  const auto files = RenderReport(*d, AnalyzeReport(*d));
  const std::string& index = files.at("index.html");
  EXPECT_NE(index.find("<h2>Restarts</h2>"), std::string::npos);
  EXPECT_NE(index.find("Compute lost to restarts: 0.006 h"), std::string::npos) << index;
  EXPECT_NE(index.find("<td data-label=\"state\">preempted</td><td data-label=\"resumed from\">-</td>"
                       "<td data-label=\"last checkpoint\">epoch 2</td>"),
            std::string::npos)
      << index;
  record->reset();
  fs::remove_all(dir);
}

TEST_F(ReportTest, TablesAndPairedTestsUseOnlyCompletePairs) {
  BuildFixture(6);
  ReportData d = Load();
  ReportAnalysis a = AnalyzeReport(d);
  ASSERT_EQ(a.groups.size(), 3u);
  EXPECT_EQ(a.groups[0].label, kHostile);
  EXPECT_EQ(a.groups[1].done, 5);
  EXPECT_EQ(a.groups[1].failed, 1);
  EXPECT_NEAR(a.groups[0].metrics.at("macro_f1").mean, 0.725, 1e-12);  // 0.70 + 0.01 x mean(0..5)
  ASSERT_EQ(a.comparisons.size(), 2u);  // the spec's comparison and the ablation
  const ComparisonResult& c = a.comparisons[0];
  EXPECT_EQ(c.kind, "comparison");
  EXPECT_EQ(c.pairs.x.size(), 5u);  // seed 1 of the baseline failed: that pair is left out
  EXPECT_EQ(c.pairs.unmatched_x, 1);
  ASSERT_TRUE(c.t.defined);
  EXPECT_GT(c.t.mean_diff, 0.05);
  EXPECT_TRUE(c.significant);
  const ComparisonResult& abl = a.comparisons[1];
  EXPECT_EQ(abl.kind, "ablation");
  EXPECT_EQ(abl.baseline, "ladder_no_cross");
  // Identical metrics: zero differences, no evidence.
  EXPECT_EQ(abl.t.p, 1);
  EXPECT_FALSE(abl.significant);
  EXPECT_GE(c.p_holm, c.t.p);  // Holm over the family of two
  // Effect sizes: the share of matched pairs won, counted here by hand.
  double wins = 0;
  for (size_t i = 0; i < c.pairs.x.size(); ++i) wins += c.pairs.x[i] > c.pairs.y[i] ? 1 : c.pairs.x[i] == c.pairs.y[i] ? 0.5 : 0;
  ASSERT_TRUE(c.paired_wins.defined);
  EXPECT_DOUBLE_EQ(c.paired_wins.estimate, wins / static_cast<double>(c.pairs.x.size()));
  EXPECT_LE(c.paired_wins.low, c.paired_wins.estimate);
  EXPECT_GE(c.paired_wins.high, c.paired_wins.estimate);
  ASSERT_TRUE(c.improvement.defined);  // unpaired: every run of each side, the unmatched one too
  EXPECT_TRUE(c.iqm_variant.defined && c.iqm_baseline.defined);
  EXPECT_GT(c.iqm_variant.estimate, c.iqm_baseline.estimate);
  // Identical runs: every pair a tie, each side as likely to win.
  EXPECT_DOUBLE_EQ(abl.paired_wins.estimate, 0.5);
  EXPECT_DOUBLE_EQ(abl.improvement.estimate, 0.5);
  EXPECT_DOUBLE_EQ(abl.iqm_variant.estimate, abl.iqm_baseline.estimate);
  // Seeded by the comparison: a second analysis gives the same intervals.
  const ReportAnalysis again = AnalyzeReport(d);
  EXPECT_EQ(again.comparisons[0].improvement.low, c.improvement.low);
  EXPECT_EQ(again.comparisons[0].iqm_variant.high, c.iqm_variant.high);
}

TEST_F(ReportTest, RendersEveryFileWithMarksAndEscapedNames) {
  BuildFixture(6);
  ReportData d = Load();
  ReportAnalysis a = AnalyzeReport(d);
  auto files = RenderReport(d, a);
  for (const char* f : {"index.html", "variant-1.html", "variant-2.html", "variant-3.html", "table.csv", "table.json",
                        "table.tex"}) {
    ASSERT_TRUE(files.count(f)) << f;
  }
  const std::string& index = files["index.html"];
  EXPECT_EQ(index.find("<img"), std::string::npos) << "the hostile name must be escaped";
  EXPECT_NE(index.find("&lt;img src=x onerror=alert(&#39;x&#39;)&gt;&amp;&quot;v&quot;"), std::string::npos);
  EXPECT_NE(index.find("★ significant"), std::string::npos);
  // The verdict comes first, before the statistics tables, with the synthetic caveat.
  const size_t verdict = index.find("<section class=\"verdict\">");
  ASSERT_NE(verdict, std::string::npos);
  EXPECT_LT(verdict, index.find("<h2>Results on the test set"));
  EXPECT_NE(index.find("matched pairs, Holm-adjusted p = ", verdict), std::string::npos);
  EXPECT_NE(index.find("the verdicts test the system", verdict), std::string::npos);
  EXPECT_NE(index.find("<b>synthetic</b>"), std::string::npos);
  EXPECT_NE(index.find("Ablations"), std::string::npos);
  EXPECT_NE(index.find("<svg"), std::string::npos);
  EXPECT_NE(index.find("(1 failed)"), std::string::npos);
  EXPECT_NE(index.find("<h2>Effect sizes</h2>"), std::string::npos);
  EXPECT_NE(index.find("of the matched pairs (95% CI ", verdict), std::string::npos);
  const Json table = Json::parse(files["table.json"]);
  const Json& effects = table["comparisons"][0]["effect_sizes"];
  EXPECT_TRUE(effects["pairs_won"]["estimate"].is_number()) << effects.dump();
  EXPECT_EQ(effects["pairs_won"]["ci95"].size(), 2u);
  EXPECT_TRUE(effects["probability_of_improvement"]["estimate"].is_number());
  EXPECT_EQ(effects["bootstrap"]["reps"], kEffectSizeReps);
  for (const char* remote : {"src=\"http", "href=\"http", "url(http", "@import", "src=\"//", "href=\"//"}) {
    EXPECT_EQ(index.find(remote), std::string::npos) << "no network resources: " << remote;
  }
  const std::string& baseline_page = files["variant-2.html"];
  EXPECT_NE(baseline_page.find("NaN loss at epoch 2 &lt;b&gt;"), std::string::npos);
  // Every <script> in the pages is ours: exactly one per page.
  for (const auto& [name, content] : files) {
    if (name.size() > 5 && name.substr(name.size() - 5) == ".html") {
      size_t n = 0;
      for (size_t p = content.find("<script"); p != std::string::npos; p = content.find("<script", p + 1)) ++n;
      EXPECT_EQ(n, 1u) << name;
    }
  }
  EXPECT_NE(files["table.tex"].find("\\begin{tabular}"), std::string::npos);
  EXPECT_NE(files["table.tex"].find("$^{*}$"), std::string::npos);
  EXPECT_NE(files["table.csv"].find("<img src=x onerror=alert('x')>&\"\"v\"\"\""), std::string::npos)
      << files["table.csv"];
  Json j = Json::parse(files["table.json"]);
  EXPECT_EQ(j["groups"][0]["architecture"], kHostile);
  EXPECT_EQ(j["comparisons"][0]["pairs"], 5);
}

TEST_F(ReportTest, DegenerateSweepsStillRender) {
  BuildFixture(1);  // one seed: no test is defined
  ReportData d = Load();
  ReportAnalysis a = AnalyzeReport(d);
  ASSERT_FALSE(a.comparisons.empty());
  EXPECT_FALSE(a.comparisons[0].t.defined);
  auto files = RenderReport(d, a);
  EXPECT_NE(files["index.html"].find("n/a:"), std::string::npos);
  ReportData empty;
  empty.sweep_name = "empty";
  auto none = RenderReport(empty, AnalyzeReport(empty));
  EXPECT_TRUE(none.count("index.html"));
}

TEST(Svg, ChartsEscapeLabelsAndHandleEdgeCases) {
  std::string box = BoxPlotSvg({{"<a>", {{"k1", 0.5}, {"k2", 0.6}}}, {"b", {{"k1", 0.4}}}}, "F1", 0);
  EXPECT_NE(box.find("&lt;a&gt;"), std::string::npos);
  EXPECT_NE(box.find("<line"), std::string::npos);  // the paired line k1
  EXPECT_NE(BoxPlotSvg({}, "F1", -1).find("</svg>"), std::string::npos);
  EXPECT_NE(LineChartSvg({{"s", {{1, 0.2}, {2, 0.3}}}}, "epoch", "F1").find("<path"), std::string::npos);
  EXPECT_NE(LineChartSvg({}, "epoch", "F1").find("</svg>"), std::string::npos);
  std::string heat = HeatmapSvg(std::vector<int64_t>(36, 2), {"ANG", "DIS", "FEA", "HAP", "NEU", "SAD"}, "m");
  EXPECT_NE(heat.find(">2</text>"), std::string::npos);
}

}  // namespace
}  // namespace avctl


namespace avctl {
namespace {

TEST(HtmlTable, EveryCellCarriesItsColumnLabelForTheStackedLayout) {
  HtmlTable t({"variant", "d<sub>z</sub>", "p"}, "sortable");
  t.AddRow({{"a", "wrap"}, NumberCell(0.5, "0.50"), {"x"}});
  t.AddRow({{"b"}, {"no test", "muted", 2}});
  const std::string html = t.Render();
  EXPECT_NE(html.find("<table class=\"stack sortable\">"), std::string::npos) << html;
  EXPECT_NE(html.find("<th scope=\"col\">d<sub>z</sub></th>"), std::string::npos);
  EXPECT_NE(html.find("<td data-label=\"variant\" class=\"wrap\">a</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td data-label=\"dz\" data-v=\"5.000000e-01\">0.50</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td colspan=\"2\" class=\"muted\">no test</td>"), std::string::npos) << html;
  EXPECT_EQ(HtmlText("<b>x</b> &amp; \"y\""), "x &amp; 'y'");
}

TEST(Svg, LabelsWrapWithoutLosingCharacters) {
  const std::string name = "ladder_av_with_cross_modal_skips [model.lambda=0.001, model.noise_std=0.3]";
  const auto lines = WrapLabel(name, 14);
  ASSERT_GT(lines.size(), 3u);
  std::string joined;
  for (const auto& l : lines) {
    EXPECT_LE(l.size(), 14u) << l;
    joined += l;
  }
  std::string no_spaces;
  for (char c : name) {
    if (c != ' ') no_spaces += c;
  }
  std::string joined_no_spaces;
  for (char c : joined) {
    if (c != ' ') joined_no_spaces += c;
  }
  EXPECT_EQ(joined_no_spaces, no_spaces);
  EXPECT_EQ(WrapLabel("short", 14), std::vector<std::string>{"short"});
  EXPECT_EQ(WrapLabel("", 14), std::vector<std::string>{""});
  // Box plots and curves show the whole name, in lines, never "...".
  const std::string box = BoxPlotSvg({{name, {{"k", 0.5}}}}, "F1", -1);
  EXPECT_EQ(box.find("..."), std::string::npos);
  EXPECT_NE(box.find("<tspan"), std::string::npos);
  const std::string curve = LineChartSvg({{name, {{1, 0.2}, {2, 0.3}}}}, "epoch", "F1");
  EXPECT_EQ(curve.find("..."), std::string::npos);
  EXPECT_NE(curve.find("</tspan><tspan"), std::string::npos) << curve;  // more than one line
}

TEST(Svg, HyperparameterChartDrawsMeanAndIntervalPerValueOnALogAxis) {
  ParamSeries s{"ladder_av", {{0.01, {0.5, 0.6}, 0.55, 0.4, 0.7}, {1.0, {0.7}, 0.7, 0.7, 0.7}}};
  const std::string log_chart = ParamChartSvg({s}, "model.lambda", "F1", true);
  EXPECT_NE(log_chart.find("(log scale)"), std::string::npos);
  EXPECT_NE(log_chart.find("mean 0.5500, 95% CI [0.4000, 0.7000], 2 runs"), std::string::npos) << log_chart;
  EXPECT_NE(log_chart.find(">0.01</text>"), std::string::npos);  // decade ticks
  EXPECT_NE(log_chart.find(">1</text>"), std::string::npos);
  EXPECT_EQ(ParamChartSvg({s}, "model.lambda", "F1", false).find("(log scale)"), std::string::npos);
  // Non-positive values cannot go on a log axis.
  ParamSeries z{"x", {{0.0, {0.5}, 0.5, 0.5, 0.5}, {1.0, {0.6}, 0.6, 0.6, 0.6}}};
  EXPECT_EQ(ParamChartSvg({z}, "p", "F1", true).find("(log scale)"), std::string::npos);
  EXPECT_NE(ParamChartSvg({}, "p", "F1", true).find("</svg>"), std::string::npos);
}

TEST(ReportLoader, LogAxisForLogUniformSpacesAndGeometricGrids) {
  EXPECT_TRUE(LogScaledSpace(Json{{"log_uniform", {1e-4, 1e-2}}}));
  EXPECT_FALSE(LogScaledSpace(Json{{"uniform", {0.0, 1.0}}}));
  EXPECT_TRUE(LogScaledSpace(Json{0.1, 0.3, 1.0, 3.0}));
  EXPECT_TRUE(LogScaledSpace(Json{1e-4, 1e-3, 1e-2}));
  EXPECT_FALSE(LogScaledSpace(Json{0.1, 0.3, 0.5}));       // spans less than a factor 10
  EXPECT_FALSE(LogScaledSpace(Json{1.0, 10.0, 20.0, 30.0}));  // linear steps
  EXPECT_FALSE(LogScaledSpace(Json{0.0, 1.0, 10.0}));      // zero
  EXPECT_FALSE(LogScaledSpace(Json{"mean", "last"}));
}

TEST_F(ReportTest, GridSweepAblationsHyperparameterChartsAndPalette) {
  BuildFixture(4, /*grid=*/true);
  ReportData d = Load();
  EXPECT_EQ(d.log_scaled_params, (std::set<std::string>{"model.lambda"}));
  ReportAnalysis a = AnalyzeReport(d);
  // No comparison names a point: the ablation meets no point of the swept
  // proposed variant and gets no test (AComparisonNamingAPoint... gives it one).
  for (const auto& c : a.comparisons) EXPECT_NE(c.kind, "ablation") << c.variant;
  const std::string index = RenderReport(d, a)["index.html"];
  // The ablations table: the reference row and the ablation, none of the other grid points.
  const size_t abl = index.find("<h2>Ablations</h2>");
  ASSERT_NE(abl, std::string::npos);
  const std::string section = index.substr(abl, index.find("<h2>", abl + 5) - abl);
  int rows = 0;
  for (size_t p = section.find("<tr><td"); p != std::string::npos; p = section.find("<tr><td", p + 1)) ++rows;
  EXPECT_EQ(rows, 2) << section;
  EXPECT_NE(section.find(">reference</span>"), std::string::npos) << section;
  EXPECT_NE(section.find("ladder_no_cross"), std::string::npos);
  // One chart per swept parameter; λ on a log axis, one series per noise level.
  EXPECT_NE(index.find("model.lambda (log scale)"), std::string::npos);
  EXPECT_EQ(index.find("model.noise_std (log scale)"), std::string::npos);
  EXPECT_NE(index.find("[model.noise_std=0.3]"), std::string::npos);
  EXPECT_NE(index.find("95% CI ["), std::string::npos);
  // The colour-blind-safe palette (Okabe-Ito), not the old one.
  EXPECT_NE(index.find("#0072B2"), std::string::npos);
  EXPECT_EQ(index.find("#1b6ca8\" fill-opacity=\"0.15"), std::string::npos);
  // Long names are wrapped, not cut.
  EXPECT_EQ(index.find(kLongName.substr(0, 21) + "..."), std::string::npos);
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {

// A comparison naming a swept variant's point: that point is compared with
// the baseline, and the ablations are tested against it (without a point,
// an ablation never meets a swept proposed variant's runs).
TEST_F(ReportTest, AComparisonNamingAPointTestsItAndTheAblationsAgainstIt) {
  const std::string point = "model.lambda=0.1,model.noise_std=0.3";
  BuildFixture(4, /*grid=*/true, point);
  ReportData d = Load();
  ASSERT_EQ(d.comparisons.size(), 1u);
  EXPECT_EQ(d.comparisons[0].point, point);
  const ReportAnalysis a = AnalyzeReport(d);
  ASSERT_EQ(a.comparisons.size(), 2u);
  EXPECT_EQ(a.comparisons[0].kind, "comparison");
  EXPECT_EQ(a.comparisons[0].variant, kLongName + " [" + point + "]");
  EXPECT_EQ(a.comparisons[0].baseline, "backbone");
  const ComparisonResult& abl = a.comparisons[1];
  EXPECT_EQ(abl.kind, "ablation");
  EXPECT_EQ(abl.variant, kLongName + " [" + point + "]");
  EXPECT_EQ(abl.baseline, "ladder_no_cross");
  ASSERT_TRUE(abl.t.defined);
  EXPECT_EQ(abl.pairs.x.size(), 4u);
}

TEST(ReportProvenance, ListsTheCpuKernelsAndSaysWhenASweepMixedThem) {
  ReportData d;
  d.sweep_name = "k";
  d.cpu_kernels = {{"avx2 + OpenBLAS SkylakeX", 3}};
  std::string index = RenderReport(d, AnalyzeReport(d))["index.html"];
  EXPECT_NE(index.find("<td>CPU kernels</td><td>avx2 + OpenBLAS SkylakeX (3 runs)"), std::string::npos) << index;
  EXPECT_EQ(index.find("mixed:"), std::string::npos);
  d.cpu_kernels["avx512 + OpenBLAS Cooperlake"] = 1;
  index = RenderReport(d, AnalyzeReport(d))["index.html"];
  EXPECT_NE(index.find("mixed: CPU kernels of different vector widths"), std::string::npos);
}

TEST(ReportProvenance, WarnsWhenAComparedVariantRanTwoVersionsOfItsScript) {
  ReportData d;
  d.sweep_name = "own";
  d.variants = {{"mine", "proposed", "command"}, {"base", "baseline", "command"}, {"other", "baseline", "command"}};
  d.comparisons = {{"mine", {"base"}, "macro_f1", "greater", 0}};
  auto run = [](const std::string& variant, uint64_t seed, const std::string& sha) {
    ReportRun r;
    r.variant = variant;
    r.seed = seed;
    r.has_result = true;
    r.metrics = {{"macro_f1", 0.5}};
    r.script = "/work/train.sh";
    r.script_sha256 = sha;
    return r;
  };
  const std::string a(64, 'a'), b(64, 'b');
  d.runs = {run("mine", 0, a), run("mine", 1, a), run("base", 0, a), run("base", 1, a),
            run("other", 0, a), run("other", 1, b)};
  EXPECT_TRUE(MixedCodeWarnings(d).empty()) << "other is in no comparison";
  d.runs.push_back(run("mine", 2, b));
  const auto w = MixedCodeWarnings(d);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], "Variant mine ran 2 versions of /work/train.sh (sha256 aaaaaaaaaaaa (2 results), bbbbbbbbbbbb "
                  "(1 result)): its comparisons mix code, so their differences are not the model's alone.");
  const std::string index = RenderReport(d, AnalyzeReport(d))["index.html"];
  EXPECT_NE(index.find("Warning: Variant mine ran 2 versions"), std::string::npos);
  // The same script at another commit of its repository is another version too.
  d.runs[2].git_commit = std::string(40, 'c');
  const auto w2 = MixedCodeWarnings(d);
  ASSERT_EQ(w2.size(), 2u);
  EXPECT_NE(w2[1].find("Variant base ran 2 versions"), std::string::npos) << w2[1];
  EXPECT_NE(w2[1].find("aaaaaaaaaaaa at commit cccccccccccc (1 result)"), std::string::npos) << w2[1];
}

// A sweep of two command variants, mine (proposed) against base, compared on
// `metric` (greater is better), with `seeds` finished runs each whose
// metrics `metrics(variant, seed)` gives.
ReportData TwoCommandVariants(const std::string& name, const std::string& metric, uint64_t seeds,
                              const std::function<std::map<std::string, double>(const std::string&, uint64_t)>& metrics) {
  ReportData d;
  d.sweep_name = name;
  d.variants = {{"mine", "proposed", "command"}, {"base", "baseline", "command"}};
  d.comparisons = {{"mine", {"base"}, metric, "greater", 0}};
  for (uint64_t seed = 0; seed < seeds; ++seed) {
    for (const std::string v : {"mine", "base"}) {
      ReportRun r;
      r.variant = v;
      r.seed = seed;
      r.state = "done";
      r.has_result = true;
      r.metrics = metrics(v, seed);
      d.runs.push_back(r);
    }
  }
  return d;
}

// A program's own metrics (examples/pytorch reports macro_f1 and accuracy;
// a regression model a CCC and a loss): the table shows what the results
// carry, the compared metric first, [0, 1] metrics as percentages and the
// others as they are, in the HTML, CSV and LaTeX tables alike.
TEST(ReportColumns, TheMetricsTheResultsCarryComparedFirst) {
  ReportData d = TwoCommandVariants("own", "ccc", 3, [](const std::string& v, uint64_t seed) {
    return std::map<std::string, double>{
        {"accuracy", 0.5 + 0.01 * seed}, {"ccc", (v == "mine" ? 0.4 : 0.3) + 0.01 * seed}, {"loss", 1.5 + seed}};
  });
  const auto columns = ReportColumns(d);
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[0].name, "ccc");
  EXPECT_EQ(columns[1].label, "Accuracy");
  EXPECT_EQ(columns[2].name, "loss");
  EXPECT_TRUE(columns[0].percent);
  EXPECT_FALSE(columns[2].percent) << "values above 1 are not shown as percentages";
  const auto a = AnalyzeReport(d);
  auto files = RenderReport(d, a);
  EXPECT_NE(files["index.html"].find("<th scope=\"col\">ccc</th>"), std::string::npos) << files["index.html"];
  EXPECT_NE(files["index.html"].find("2.5 ± 1"), std::string::npos) << "loss as is: " << files["index.html"];
  EXPECT_EQ(files["index.html"].find("Macro Prec"), std::string::npos);
  EXPECT_EQ(files["table.csv"].substr(0, files["table.csv"].find('\n')),
            "architecture,role,runs,ccc_mean,ccc_sd,accuracy_mean,accuracy_sd,loss_mean,loss_sd");
  EXPECT_NE(files["table.tex"].find("Architecture & ccc & Accuracy & loss"), std::string::npos) << files["table.tex"];
  // The paper's six when the results carry them (the built-in models): as before.
  for (auto& r : d.runs) {
    for (const auto& m : TableMetrics()) r.metrics[m] = 0.5;
  }
  const auto paper = ReportColumns(d);
  ASSERT_EQ(paper.size(), 6u);
  EXPECT_EQ(paper[2].label, "Macro F1");
}

// Confusion matrices for any class count, labelled with the results' class
// names (CREMA-D's codes for its six); a run with other classes is not summed
// into its group's matrix; no matrix at all: no section.
TEST(ReportConfusion, AnyClassCountLabelledWithTheResultsClassNames) {
  ReportData d = TwoCommandVariants("four", "macro_f1", 2, [](const std::string&, uint64_t seed) {
    return std::map<std::string, double>{{"macro_f1", 0.5 + 0.01 * seed}};
  });
  const std::vector<std::string> four = {"anger", "happiness", "neutral", "sadness"};
  EXPECT_EQ(RenderReport(d, AnalyzeReport(d))["index.html"].find("Confusion matrices"), std::string::npos);
  for (auto& r : d.runs) {
    r.class_names = four;
    r.confusion.assign(16, 0);
    r.confusion[5] = 7;  // happiness as happiness, per run
  }
  d.runs[0].class_names = {"a", "b", "c", "d"};  // another corpus's run: left out of mine's sum
  const std::string index = RenderReport(d, AnalyzeReport(d))["index.html"];
  EXPECT_NE(index.find("Confusion matrices"), std::string::npos);
  EXPECT_NE(index.find(">happi</text>"), std::string::npos) << "names cut to a cell's width";
  EXPECT_NE(index.find("<title>happi as happi: 14 (100%)</title>"), std::string::npos) << "base: two runs summed";
  EXPECT_NE(index.find(">a</text>"), std::string::npos) << "mine's first run sets its classes";
  EXPECT_EQ(index.find(">ANG</text>"), std::string::npos);
  // The built-in models' six (named, or stored before results named them): the codes.
  for (auto& r : d.runs) {
    r.class_names.clear();
    r.confusion.assign(36, 1);
  }
  EXPECT_NE(RenderReport(d, AnalyzeReport(d))["index.html"].find(">ANG</text>"), std::string::npos);
}

}  // namespace
}  // namespace avctl
