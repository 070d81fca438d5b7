// python/avctl_job.py, the helper for Python programs: what it writes is a
// document the worker accepts (read back with common/job_result), and its
// signal and exit-code behaviour is the contract's (docs/JOBS.md). Runs the
// system's python3; skipped, saying so, where there is none.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/job_result.h"
#include "tests/process_runner.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

class PythonHelperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testutil::RunCommand("PATH=/usr/bin:$PATH python3 -c 'import json'").exit_code != 0) {
      GTEST_SKIP() << "no python3 here";
    }
    dir_ = testutil::FreshTestDir("python-helper");
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  // Runs `body` (Python, the helper imported as h) as a command job would;
  // returns its exit code.
  int Run(const std::string& body, const Json& config = Json()) {
    const fs::path script = dir_ / "prog.py";
    std::ofstream(script) << "import sys, os, signal\nsys.path.insert(0, '" << AVCTL_SOURCE_DIR
                          << "/python')\nimport avctl_job as h\n" << body << "\n";
    std::string env = "AVCTL_RESULT=" + (dir_ / "result.json").string() +
                      " AVCTL_PROGRESS=" + (dir_ / "progress.jsonl").string() +
                      " AVCTL_CHECKPOINT_DIR=" + (dir_ / "ck").string() + " AVCTL_OUTPUT_DIR=" + (dir_ / "out").string();
    if (!config.is_null()) {
      std::ofstream(dir_ / "config.json") << config.dump();
      env += " AVCTL_CONFIG=" + (dir_ / "config.json").string();
    }
    auto r = testutil::RunCommand("cd " + dir_.string() + " && PATH=/usr/bin:$PATH " + env + " python3 " +
                                  script.string());
    output_ = r.output;
    return r.exit_code;
  }

  Result<JobResult> Stored() {
    AVCTL_ASSIGN_OR_RETURN(Json j, ReadJsonFile((dir_ / "result.json").string()));
    ResultParseOptions o;
    o.require_compute_seconds = false;  // the worker fills it in
    return ParseJobResult(j, o);
  }

  fs::path dir_;
  std::string output_;
};

TEST_F(PythonHelperTest, AResultAndProgressLinesTheWorkerAccepts) {
  const Json config = {{"contract", 1}, {"seed", 7}, {"partition", 2}, {"params", {{"lr", 0.01}}},
                       {"job_key", "s/v/-/seed=7/partition=2"}, {"attempt", 3}, {"dataset", nullptr}};
  ASSERT_EQ(Run("cfg = h.config({'lr': 0.1, 'hidden': 8})\n"
                "assert cfg.seed == 7 and cfg.params == {'lr': 0.01, 'hidden': 8}, cfg\n"
                "h.seed_everything(cfg.seed)\n"
                "h.progress(1, epochs=2, train_loss=0.5)\n"
                "h.write_result(test={'metrics': {'macro_f1': 0.6, 'accuracy': 0.7}, 'confusion': [1, 0, 0, 1]},\n"
                "               class_names=['a', 'b'], notes='mine')\n",
                config),
            0)
      << output_;
  auto r = Stored();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ResultStatus::kOk);
  EXPECT_DOUBLE_EQ(r->test.metrics.at("macro_f1"), 0.6);
  EXPECT_EQ(r->class_names, (std::vector<std::string>{"a", "b"}));
  auto progress = ReadFileToString((dir_ / "progress.jsonl").string());
  ASSERT_TRUE(progress.ok());
  EXPECT_NE(progress->find("\"epoch\": 1"), std::string::npos) << *progress;
  EXPECT_FALSE(fs::exists(dir_ / "result.json.tmp")) << "written to a temporary name and renamed";
}

// The same seed gives the same numbers; deterministic=True also switches
// PyTorch to deterministic algorithms (and says so).
TEST_F(PythonHelperTest, SeedEverythingRepeatsNumbersAndAsksForDeterministicAlgorithms) {
  ASSERT_EQ(Run("try:\n"
                "    import torch\n"
                "except ImportError:\n"
                "    print('no torch'); sys.exit(0)\n"
                "assert h.seed_everything(5) is False\n"
                "a = torch.randn(4).tolist()\n"
                "assert h.seed_everything(5, deterministic=True) is True\n"
                "assert torch.randn(4).tolist() == a\n"
                "assert torch.are_deterministic_algorithms_enabled()\n"
                "assert os.environ['CUBLAS_WORKSPACE_CONFIG'] == ':4096:8'\n"
                "print('seeded')\n"),
            0)
      << output_;
  if (output_.find("no torch") != std::string::npos) GTEST_SKIP() << "python3 has no torch here";
  EXPECT_NE(output_.find("seeded"), std::string::npos) << output_;
}

TEST_F(PythonHelperTest, AnExceptionBecomesAFailedResultAndOutOfMemoryIsMarked) {
  EXPECT_NE(Run("with h.failure_reporting():\n"
                "    raise RuntimeError('CUDA out of memory. Tried to allocate 2.00 GiB')\n"),
            0);
  auto r = Stored();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ResultStatus::kFailed);
  EXPECT_TRUE(r->out_of_memory);
  EXPECT_NE(r->reason.find("Traceback"), std::string::npos) << r->reason;
  EXPECT_NE(r->reason.find("CUDA out of memory"), std::string::npos) << r->reason;
  EXPECT_NE(Run("with h.failure_reporting():\n    {}['missing']\n"), 0);
  r = Stored();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->out_of_memory);
  EXPECT_EQ(r->failure_kind, FailureKind::kCrash);
}

TEST_F(PythonHelperTest, SigtermSetsShouldStopAndPreemptedExitsThree) {
  EXPECT_EQ(Run("assert not h.should_stop()\n"
                "os.kill(os.getpid(), signal.SIGTERM)\n"
                "assert h.should_stop()\n"
                "h.preempted()\n"),
            3)
      << output_;
  auto r = Stored();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ResultStatus::kPreempted);
}

TEST_F(PythonHelperTest, AnotherContractVersionIsABadConfiguration) {
  EXPECT_EQ(Run("h.config()\n", Json{{"contract", 2}}), 2) << output_;
  EXPECT_NE(output_.find("contract 2"), std::string::npos) << output_;
}

}  // namespace
}  // namespace avctl
