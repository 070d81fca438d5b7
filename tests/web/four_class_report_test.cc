// A report of a four-class corpus (issue 28): 4 x 4 confusion matrices, a
// per-class table of four rows on each variant's page, and none of
// CREMA-D's other classes (or its codes) anywhere in the report.
#include <gtest/gtest.h>

#include "web/report_analysis.h"
#include "web/report_render.h"

namespace avctl {
namespace {

ReportData FourClassSweep() {
  ReportData d;
  d.sweep_name = "iemocap4";
  d.source = "iemocap4.json";
  d.alpha = 0.05;
  d.variants = {{"ladder_av", "proposed", "ladder_av"}, {"backbone", "baseline", "backbone"}};
  d.comparisons = {{"ladder_av", {"backbone"}, "macro_f1", "greater", 0, ""}};
  d.store = {{"synthetic", true},
             {"clips", 200},
             {"labels", {{"format", "generic"}, {"merged", {{"exc", "hap"}}}, {"dropped", {{"fru", 12}}}}}};
  const std::vector<std::string> names = {"anger", "happiness", "sadness", "neutral"};
  for (int s = 0; s < 5; ++s) {
    for (const std::string variant : {"ladder_av", "backbone"}) {
      ReportRun r;
      r.key = variant + "/" + std::to_string(s);
      r.variant = variant;
      r.seed = static_cast<uint64_t>(s);
      r.state = "done";
      r.has_result = true;
      r.seconds = 10;
      const double f1 = (variant == "ladder_av" ? 0.62 : 0.58) + 0.01 * s;
      r.metrics = {{"macro_f1", f1}, {"accuracy", f1 + 0.02}};
      r.class_names = names;
      r.confusion = {8, 1, 0, 1, 1, 7, 1, 1, 0, 1, 9, 0, 2, 1, 1, 6};
      for (int k = 0; k < 4; ++k) {
        r.per_class.push_back({{"precision", 0.6 + 0.05 * k}, {"recall", 0.55 + 0.05 * k}, {"f1", 0.57 + 0.05 * k},
                               {"support", 10}});
      }
      d.runs.push_back(r);
    }
  }
  return d;
}

TEST(FourClassReport, FourByFourMatricesFourPerClassRowsAndNoOtherCremaClass) {
  const ReportData d = FourClassSweep();
  const ReportAnalysis a = AnalyzeReport(d);
  ASSERT_EQ(a.groups.size(), 2u);
  ASSERT_EQ(a.groups[0].per_class.size(), 4u);
  EXPECT_EQ(a.groups[0].per_class[1].name, "happiness");
  EXPECT_NEAR(a.groups[0].per_class[3].f1.mean, 0.72, 1e-12);
  EXPECT_EQ(a.groups[0].per_class[3].f1.n, 5);
  const auto files = RenderReport(d, a);
  const std::string& index = files.at("index.html");
  EXPECT_NE(index.find("Confusion matrices"), std::string::npos);
  for (const char* label : {">anger<", ">happi<", ">sadne<", ">neutr<"}) {
    EXPECT_NE(index.find(label), std::string::npos) << label << ": an axis label of the 4 x 4 matrices";
  }
  // The provenance says how the corpus's labels were read (the store's own
  // record, carried by each result as store.labels).
  EXPECT_NE(index.find("<tr><td>labels</td><td>generic file; dropped labels: fru 12; left-out splits: none; merged: "
                       "exc=hap</td></tr>"),
            std::string::npos);
  const std::string& page = files.at("variant-1.html");
  EXPECT_NE(page.find("Per class (test, mean ± sd over 5 runs, %)"), std::string::npos);
  for (const char* name : {"anger", "happiness", "sadness", "neutral"}) {
    EXPECT_NE(page.find(">" + std::string(name) + "<"), std::string::npos) << name;
  }
  for (const auto& [file, text] : files) {
    for (const char* crema : {"disgust", "Disgust", "fear", "Fear", ">DIS<", ">FEA<", ">ANG<", ">HAP<", ">NEU<", ">SAD<"}) {
      EXPECT_EQ(text.find(crema), std::string::npos) << file << " names " << crema;
    }
  }
}

TEST(FourClassReport, LabelsItCannotReadAreSaidToBeUnreadableNamingTheField) {
  ReportData d = FourClassSweep();
  d.store = {{"labels", {{"format", "generic"}, {"dropped", {{"fru", "many"}}}}}};
  const auto files = RenderReport(d, AnalyzeReport(d));
  const std::string& index = files.at("index.html");
  EXPECT_NE(index.find("<tr><td>labels</td><td>unreadable: "), std::string::npos);
  EXPECT_NE(index.find("store.labels.dropped.fru"), std::string::npos);
}

}  // namespace
}  // namespace avctl
