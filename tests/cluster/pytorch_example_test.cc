// examples/pytorch: a real PyTorch program (Debian's python3-torch on CPU)
// with the Python helper, run by `avctl sweep run` with two local workers to
// its report. Shortened from the shipped spec (3 seeds, 6 epochs) to keep
// the suite's time; the program and the spec's other settings are as shipped.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/json_util.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/process_runner.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

// Debian's python3 first: the one python3-torch installs into.
const std::string kPath = "PATH=/usr/bin:$PATH ";

std::string Query(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::string out;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      out = t != nullptr ? reinterpret_cast<const char*>(t) : "";
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return out;
}

TEST(PytorchExample, TheExampleSweepRunsToItsReportWithAVerdict) {
  auto probe = testutil::RunCommand(kPath + "python3 -c 'import torch, numpy'");
  if (probe.exit_code != 0) {
    GTEST_SKIP() << "no python3-torch here (scripts/install-deps.sh --test installs it): " << probe.output;
  }
  const fs::path dir = testutil::FreshTestDir("pytorch-example");
  const fs::path example = fs::path(AVCTL_SOURCE_DIR) / "examples" / "pytorch";
  auto spec = ReadJsonFile((example / "sweep.json").string());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  (*spec)["program"]["workdir"] = example.string();
  (*spec)["program"]["params"]["epochs"] = 6;
  (*spec)["seeds"] = 3;
  std::ofstream(dir / "sweep.json") << spec->dump();
  auto run = testutil::RunCommand(kPath + "timeout 900 " + testutil::kBin + "avctl sweep run " +
                                  (dir / "sweep.json").string() + " --local-workers 2 --dir " + (dir / "run").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("6/6 finished"), std::string::npos) << run.output;
  auto index = ReadFileToString((dir / "run" / "report" / "index.html").string());
  ASSERT_TRUE(index.ok()) << run.output;
  const bool verdict = index->find("audiovisual beats audio_only") != std::string::npos ||
                       index->find("audiovisual does not beat audio_only") != std::string::npos;
  EXPECT_TRUE(verdict) << "the report states its verdict";
  EXPECT_NE(index->find("Confusion matrices"), std::string::npos) << "from the program's confusion matrices";
  EXPECT_NE(index->find("<th scope=\"col\">Accuracy</th>"), std::string::npos) << "the metrics the program reports";
  EXPECT_EQ(index->find("Micro F1"), std::string::npos) << "not the paper's columns it does not report";
  // What the program handed back, as stored: per-clip predictions, the
  // helper's curves, the worker's provenance of the script and interpreter.
  const fs::path db = dir / "run" / "avctl.db";
  EXPECT_EQ(Query(db, "SELECT COUNT(*) FROM results"), "6");
  EXPECT_EQ(Query(db, "SELECT MIN(json_array_length(result, '$.test.predictions')) FROM results"), "84");
  EXPECT_EQ(Query(db, "SELECT MIN(json_array_length(result, '$.epochs')) FROM results"), "6");
  EXPECT_EQ(Query(db, "SELECT COUNT(DISTINCT json_extract(result, '$.provenance.command.script_sha256')) FROM "
                      "results"), "1");
  EXPECT_EQ(Query(db, "SELECT json_extract(result, '$.provenance.command.script') FROM results LIMIT 1"),
            (example / "train.py").string());
  EXPECT_EQ(Query(db, "SELECT substr(json_extract(result, '$.provenance.command.interpreter.version'), 1, 8) "
                      "FROM results LIMIT 1"), "Python 3");
  EXPECT_EQ(Query(db, "SELECT COUNT(*) FROM epochs"), "36") << "six epochs of progress per job, live";
  if (testutil::RunCommand("git -C " + example.string() + " rev-parse HEAD").exit_code == 0) {
    EXPECT_EQ(Query(db, "SELECT length(json_extract(result, '$.provenance.command.git.commit')) FROM results LIMIT 1"),
              "40") << "the commit of the example's repository";
  }
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace avctl
