// Issue 28's end-to-end check: sweeps on corpora that are not CREMA-D run
// to their reports through the real avctl, avcoord and avworkers. A
// four-class IEMOCAP-style corpus (a generic labels CSV, excitement merged
// into happiness) that the sweep spec names and each worker synthesizes,
// the ladder network against the backbone; and an audio-only
// MSP-Podcast-style corpus made by `avctl data synth --audio-only`, with
// the audio-only variants (the audiovisual ones refused). The reports must speak of the corpus's own classes only.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <gtest/gtest.h>

#include "common/json_util.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/process_runner.h"
#include "tests/store/test_util.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every text file of a report folder, concatenated.
std::string ReportText(const fs::path& report) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(report)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".html" || ext == ".json" || ext == ".csv" || ext == ".svg")) all += Slurp(e.path());
  }
  return all;
}

// A three-seed sweep of `proposed` against `baseline` on `dataset`.
std::string Spec(const std::string& name, const std::string& dataset, const std::string& proposed,
                 const std::string& baseline) {
  return R"({"name": ")" + name + R"(", "dataset": )" + dataset + R"(,
    "base": {"threads": 1, "model": {"heads": 2, "cross_layers": 1, "self_layers": 1, "aux_repeats": 1, "pooling": "mean"},
             "train": {"epochs": 2}},
    "variants": [{"name": ")" + proposed + R"(", "role": "proposed"}, {"name": ")" + baseline + R"(", "role": "baseline"}],
    "seeds": 3, "partitions": [1],
    "comparisons": [{"variant": ")" + proposed + R"(", "baselines": [")" + baseline + R"("], "metric": "macro_f1", "direction": "greater"}],
    "max_attempts": 2, "resources": {"device": "cpu"}})";
}

std::string StoreDataset(const fs::path& store) { return R"({"store": ")" + store.string() + R"("})"; }

// The report of a three-seed sweep speaks of `classes` (display names) and
// of no CREMA-D class: 4 x 4 confusion matrices, four per-class rows.
void ExpectOnlyTheseClasses(const fs::path& report, const std::vector<std::string>& classes) {
  const std::string index = Slurp(report / "index.html");
  EXPECT_NE(index.find("Confusion matrices"), std::string::npos);
  for (const auto& c : classes) {
    EXPECT_NE(index.find(">" + c.substr(0, 5) + "<"), std::string::npos) << c << ": an axis label of the matrices";
  }
  const std::string page = Slurp(report / "variant-1.html");
  EXPECT_NE(page.find("Per class (test, mean ± sd over 3 runs, %)"), std::string::npos);
  for (const auto& c : classes) EXPECT_NE(page.find(">" + c + "<"), std::string::npos) << c;
  const std::string text = ReportText(report);
  for (const char* crema : {"disgust", "Disgust", "fear", "Fear", ">DIS<", ">FEA<", ">ANG<", ">HAP<", ">NEU<", ">SAD<"}) {
    EXPECT_EQ(text.find(crema), std::string::npos) << "a CREMA-D class in the report: " << crema;
  }
}

// `avctl sweep run` of spec.json in `dir` with two local workers, to its
// report, which must speak of `classes` only.
void RunToReport(const fs::path& dir, const std::vector<std::string>& classes) {
  auto run = testutil::RunCommand("timeout 900 " + testutil::kBin + "avctl sweep run " + (dir / "spec.json").string() +
                                  " --local-workers 2 --dir " + (dir / "run").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("6/6 finished"), std::string::npos) << run.output;
  const fs::path report = dir / "run" / "report";
  ASSERT_TRUE(fs::exists(report / "index.html")) << run.output;
  ExpectOnlyTheseClasses(report, classes);
}

TEST(AnyCorpusSweep, AFourClassCorpusFromAGenericCsvRunsToItsReport) {
  // The spec names the labels file; each worker synthesizes the store itself.
  const fs::path dir = testutil::FreshTestDir("four-class-sweep");
  { std::ofstream(dir / "four.csv") << testutil::FourClassLabelsCsv(20, 10); }
  const std::string dataset = R"({"synth": {"profile": "tiny", "clips_per_actor": 0, "labels": {"files": [")" +
                              (dir / "four.csv").string() + R"("], "format": "generic", "gender_column": "gender",
      "merge": {"exc": "hap"}, "classes": ["ang", "hap", "sad", "neu"],
      "class_names": ["anger", "happiness", "sadness", "neutral"]}}})";
  { std::ofstream(dir / "spec.json") << Spec("four", dataset, "ladder_av", "backbone"); }
  RunToReport(dir, {"anger", "happiness", "sadness", "neutral"});
  if (!HasFailure()) fs::remove_all(dir);
}

TEST(AnyCorpusSweep, AnAudioOnlyMspPodcastStyleCorpusRunsToItsReport) {
  const fs::path dir = testutil::FreshTestDir("audio-only-sweep");
  { std::ofstream(dir / "labels_consensus.csv") << testutil::MspPodcastLabelsCsv(20, 10); }
  auto synth = testutil::RunCommand(testutil::kBin + "avctl data synth --format msp-podcast --classes A,S,H,N --labels " +
                                    (dir / "labels_consensus.csv").string() +
                                    " --audio-only --profile tiny --clips-per-actor 0 --log-level warn --out " +
                                    (dir / "store").string());
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  auto info = testutil::RunCommand(testutil::kBin + "avctl data info " + (dir / "store").string());
  EXPECT_NE(info.output.find("visual:      none (an audio-only store)"), std::string::npos) << info.output;
  // An audiovisual variant on it is refused by the worker, naming the modality.
  { std::ofstream(dir / "av.json") << Spec("av", StoreDataset(dir / "store"), "ladder_av", "backbone"); }
  auto av = testutil::RunCommand("timeout 600 " + testutil::kBin + "avctl sweep run " + (dir / "av.json").string() +
                                 " --local-workers 1 --dir " + (dir / "av").string());
  EXPECT_NE(av.exit_code, 0) << av.output;
  EXPECT_NE(av.output.find("needs the visual modality"), std::string::npos) << av.output;

  { std::ofstream(dir / "spec.json") << Spec("audio", StoreDataset(dir / "store"), "ladder_audio", "backbone_audio"); }
  RunToReport(dir, {"anger", "sadness", "happiness", "neutral"});
  // The report says what the labels file lost (O and X, the Test2 clips).
  std::ifstream in(dir / "run" / "report" / "index.html");
  const std::string index((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(index.find("<tr><td>labels</td><td>msp-podcast file, Test1 as Test; dropped labels: "), std::string::npos);
  EXPECT_NE(index.find("left-out splits: Test2 "), std::string::npos);
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace avctl
