// Integration tests: run the real avworker binary as a process.

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/json_util.h"
#include "tests/process_runner.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

using testutil::ProcessRun;
using testutil::RunCommand;

class AvworkerCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("avworker-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    bin_ = std::string(AVCTL_BINARY_DIR) + "/bin/";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteJob(const std::string& json) {
    std::string path = (dir_ / "job.json").string();
    std::ofstream(path) << json;
    return path;
  }

  fs::path dir_;
  std::string bin_;
};

TEST_F(AvworkerCliTest, TrainsAJobAndWritesTheResult) {
  std::string store = (dir_ / "store").string();
  ProcessRun synth = RunCommand(bin_ + "avctl data synth --profile tiny --log-level warn --out " + store);
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  std::string job = WriteJob(R"({"variant": "ladder_av", "seed": 2, "threads": 1,
      "model": {"heads": 2, "cross_layers": 1, "self_layers": 1, "aux_repeats": 1},
      "train": {"epochs": 2, "max_train_batches": 2}})");
  std::string out = (dir_ / "result.json").string();
  ProcessRun r = RunCommand(bin_ + "avworker train --job " + job + " --store " + store + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ladder_av seed 2"), std::string::npos) << r.output;
  auto j = ReadJsonFile(out);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["status"], "ok");
  EXPECT_EQ((*j)["epochs"].size(), 2u);
  EXPECT_EQ((*j)["config"]["seed"], 2);
  EXPECT_TRUE((*j)["test"]["metrics"].contains("macro_f1"));
  EXPECT_EQ((*j)["test"]["confusion"].size(), 36u);
  EXPECT_EQ((*j)["store"]["synthetic"], true);
  EXPECT_FALSE((*j)["test"]["predictions"].empty());
}

TEST_F(AvworkerCliTest, BadJobIsRefusedNamingTheField) {
  std::string job = WriteJob(R"({"variant": "ladder_av", "train": {"epoch": 3}})");
  ProcessRun r = RunCommand(bin_ + "avworker train --job " + job + " --store /nonexistent --out " + (dir_ / "r.json").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("train.epoch: unknown field"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(job), std::string::npos) << "the error names the job file";
}

TEST_F(AvworkerCliTest, MissingStoreWritesAFailureResult) {
  std::string job = WriteJob(R"({"variant": "backbone", "seed": 4})");
  std::string out = (dir_ / "r.json").string();
  ProcessRun r = RunCommand(bin_ + "avworker train --job " + job + " --store " + (dir_ / "nope").string() + " --out " + out);
  EXPECT_EQ(r.exit_code, 1);
  auto j = ReadJsonFile(out);
  ASSERT_TRUE(j.ok()) << r.output;
  EXPECT_EQ((*j)["status"], "failed");
  EXPECT_NE((*j)["reason"].get<std::string>().find("does not exist"), std::string::npos);
  EXPECT_EQ((*j)["config"]["seed"], 4);
}

TEST_F(AvworkerCliTest, UsageErrors) {
  EXPECT_EQ(RunCommand(bin_ + "avworker").exit_code, 2);
  EXPECT_EQ(RunCommand(bin_ + "avworker frobnicate").exit_code, 2);
  EXPECT_EQ(RunCommand(bin_ + "avworker train --bogus").exit_code, 2);
  EXPECT_EQ(RunCommand(bin_ + "avworker train").exit_code, 1);
  EXPECT_EQ(RunCommand(bin_ + "avworker info").exit_code, 0);
}

}  // namespace
}  // namespace avctl
