// The report from a fixture record: a sweep written through the real
// Record with known metrics, so tables, significance marks and escaping
// can be checked exactly.
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "db/record.h"
#include "web/report_analysis.h"
#include "web/report_loader.h"
#include "web/report_render.h"
#include "web/svg.h"
#include "tests/process_runner.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

// Sweep names may not hold '/' (job keys use it); everything else goes.
const std::string kHostile = "<img src=x onerror=alert('x')>&\"v\"";

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("report");
    auto store = Record::Open((dir_ / "record.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // A sweep: proposed (hostile name) beats the baseline by 0.05 +- a little
  // on every seed; an ablation is equal to the proposed; one baseline run
  // fails. Macro F1 drives the tests.
  void BuildFixture(int seeds) {
    Json spec_json = {
        {"name", "fixture"},
        {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
        {"variants",
         {{{"name", kHostile}, {"variant", "ladder_av"}, {"role", "proposed"}},
          {{"name", "backbone"}, {"role", "baseline"}},
          {{"name", "ladder_no_cross"}, {"role", "ablation"}}}},
        {"seeds", seeds},
        {"max_attempts", 1},
        {"comparisons", {{{"variant", kHostile}, {"baselines", {"backbone"}}}}}};
    auto spec = ParseSweepSpec(spec_json, "fixture.json");
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto jobs = ExpandSweep(*spec);
    ASSERT_TRUE(jobs.ok());
    ASSERT_TRUE(store_->SubmitSweep(*spec, spec_json, *jobs, "fixture.json", 1000.0).ok());
    auto queued = store_->QueuedJobs();
    ASSERT_TRUE(queued.ok());
    double now = 1000;
    for (const QueuedJob& q : *queued) {
      auto d = store_->Dispatch(q.job_id, "w1", now);
      ASSERT_TRUE(d.ok());
      const Json job = Json::parse(d->job_raw);
      const std::string variant = job.value("variant", "");
      const uint64_t seed = job.value("seed", uint64_t{0});
      const double wiggle = 0.002 * static_cast<double>(seed % 3);
      double f1 = 0.70 + 0.01 * static_cast<double>(seed);
      if (variant == "backbone") f1 -= 0.05 + wiggle;
      if (variant == "backbone" && seed == 1) {
        ASSERT_TRUE(store_->RecordFailure(d->attempt_id, FailureKind::kJob, "NaN loss at epoch 2 <b>", "w1", now + 5).ok());
        continue;
      }
      Json metrics = {{"macro_f1", f1}, {"macro_precision", f1}, {"macro_recall", f1}, {"micro_f1", f1 + 0.01},
                      {"micro_precision", f1 + 0.01}, {"micro_recall", f1 + 0.01}, {"accuracy", f1 + 0.01}};
      std::vector<int64_t> confusion(36, 1);
      Json result = {{"status", "ok"},
                     {"compute_seconds", 8.0},
                     {"selected_epoch", 2},
                     {"epochs", {{{"epoch", 1}, {"dev_macro_f1", f1 - 0.1}}, {{"epoch", 2}, {"dev_macro_f1", f1}}}},
                     {"test", {{"metrics", metrics}, {"confusion", confusion}}},
                     {"code_version", "abc123"},
                     {"store", {{"synthetic", true}, {"audio_checksum", "xxh3-64:1"}, {"visual_checksum", "xxh3-64:2"},
                                {"clips", 546}}}};
      ASSERT_TRUE(store_->RecordResult(d->attempt_id, result, "w1", now + 10).ok());
      now += 10;
    }
  }

  ReportData Load() {
    auto d = LoadReportData(store_.get(), "fixture");
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : ReportData{};
  }

  fs::path dir_;
  std::unique_ptr<Record> store_;
};

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
  EXPECT_NE(index.find("<td>preempted</td><td>-</td><td>epoch 2</td>"), std::string::npos);
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
  EXPECT_NE(ScatterSvg({{0.001, 0.5}, {1.0, 0.6}}, "lr", "F1", true).find("log scale"), std::string::npos);
  EXPECT_NE(ScatterSvg({{0.3, 0.5}}, "sigma", "F1", false).find("<circle"), std::string::npos);
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {

// The report in a real browser: headless Chromium (Debian's chromium,
// installed by scripts/install-deps.sh --test) loads index.html from
// file://, must log no console message (no script error), and renders a
// screenshot kept as a test artefact in the build tree.
TEST_F(ReportTest, RendersInHeadlessChromiumWithoutConsoleErrors) {
  const char* candidates[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"};
  std::string browser;
  for (const char* c : candidates) {
    if (fs::exists(c)) {
      browser = c;
      break;
    }
  }
  if (browser.empty()) {
    GTEST_SKIP() << "no chromium here: install it with scripts/install-deps.sh --test (the test set-up does)";
  }
  BuildFixture(6);
  ReportData d = Load();
  const fs::path site = dir_ / "site";
  fs::create_directories(site);
  for (const auto& [name, content] : RenderReport(d, AnalyzeReport(d))) {
    FILE* f = std::fopen((site / name).c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
  }
  const fs::path artefacts = fs::path(AVCTL_BINARY_DIR) / "test-artifacts";
  fs::create_directories(artefacts);
  const fs::path shot = artefacts / "report-index.png";
  fs::remove(shot);
  const std::string flags = "--headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir=" +
                            (dir_ / "profile").string() + " --enable-logging=stderr --v=0";
  const std::string url = "file://" + (site / "index.html").string();
  auto r = testutil::RunCommand("timeout 120 " + browser + " " + flags + " --window-size=1280,2400 --screenshot=" +
                                shot.string() + " " + url);
  ASSERT_TRUE(fs::exists(shot)) << r.output;
  EXPECT_GT(fs::file_size(shot), 20000u) << "an empty page would be a small PNG";
  // Console messages (script errors, console.error) are logged as CONSOLE lines.
  EXPECT_EQ(r.output.find("CONSOLE"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Uncaught"), std::string::npos) << r.output;
  // The DOM after scripts ran: the tables and charts are there.
  auto dom = testutil::RunCommand("timeout 120 " + browser + " " + flags + " --dump-dom " + url);
  EXPECT_NE(dom.output.find("Comparisons: matched paired one-tailed t-tests"), std::string::npos);
  EXPECT_NE(dom.output.find("<svg"), std::string::npos);
  EXPECT_EQ(dom.output.find("CONSOLE"), std::string::npos) << dom.output.substr(0, 2000);
}

}  // namespace
}  // namespace avctl
