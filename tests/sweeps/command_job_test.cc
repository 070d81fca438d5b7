#include "sweeps/command_job.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

CommandJob Job(const std::string& text) {
  auto j = CommandJobFromJson(Json::parse(text), "job.json");
  EXPECT_TRUE(j.ok()) << j.status().ToString();
  return j.ok() ? *j : CommandJob{};
}

TEST(CommandJobTest, RendersEveryPlaceholder) {
  CommandJob job = Job(R"({"command": ["python3", "train.py", "--config={config}", "--out", "{result}",
      "{progress}", "{checkpoint_dir}/last.pt", "{output_dir}", "--seed={seed}", "p{partition}", "a{attempt}",
      "--lr", "{param.lr}", "--name={param.name}", "{args}", "{{literal}}"],
      "params": {"lr": 1e-05, "name": "big model", "flag": true, "layers": [2, 3]},
      "seed": 7, "partition": 3, "key": "s/v/-/seed=7/partition=3"})");
  CommandPaths paths{"/a/config.json", "/a/result.json", "/a/progress.jsonl", "/ck", "/out", 41};
  auto argv = RenderCommand(job, paths);
  ASSERT_TRUE(argv.ok()) << argv.status().ToString();
  const std::vector<std::string> want = {
      "python3", "train.py", "--config=/a/config.json", "--out", "/a/result.json", "/a/progress.jsonl",
      "/ck/last.pt", "/out", "--seed=7", "p3", "a41", "--lr", "1e-05", "--name=big model",
      // {args}: one element per parameter, in name order, values as the program reads them.
      "--flag=true", "--layers=[2,3]", "--lr=1e-05", "--name=big model", "{literal}"};
  EXPECT_EQ(*argv, want);
  // Lossless round trip of the job document.
  auto again = CommandJobFromJson(CommandJobToJson(job), "again");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(CommandJobToJson(*again), CommandJobToJson(job));
}

TEST(CommandJobTest, BadJobsNameTheField) {
  struct Case {
    std::string json, field, fragment;
  };
  const std::vector<Case> cases = {
      {R"({"params": {}})", "command", "missing"},
      {R"({"command": []})", "command", "non-empty list"},
      {R"({"command": ["x", 3]})", "command[1]", "expected a string"},
      {R"({"command": ["x", "{confg}"]})", "command[1]", "unknown placeholder {confg}"},
      {R"({"command": ["x", "{config"]})", "command[1]", "unclosed"},
      {R"({"command": ["x", "a}b"]})", "command[1]", "without its"},
      {R"({"command": ["{args}"]})", "command[0]", "cannot be the program"},
      {R"({"command": ["x", "{param.lr}"], "params": {"depth": 2}})", "command[1]", "does not declare"},
      {R"({"command": ["x"], "params": {"1lr": 2}})", "params.1lr", "parameter name"},
      {R"({"command": ["x"], "params": {"a.b": 2}})", "params.a.b", "parameter name"},
      {R"({"command": ["x"], "params": {"lr": null}})", "params.lr", "expected a value"},
      {R"({"command": ["x"], "env": {"CUDA_VISIBLE_DEVICES": "0"}})", "env.CUDA_VISIBLE_DEVICES", "set by the worker"},
      {R"({"command": ["x"], "env": {"N": 1}})", "env.N", "expected a string"},
      {R"({"command": ["x"], "workdir": "rel/dir"})", "workdir", "relative"},
      {R"({"command": ["x"], "timeout_minutes": 0})", "timeout_minutes", "positive"},
      {R"({"command": ["x"], "require_metrics": [""]})", "require_metrics[0]", "metric name"},
      {R"({"command": ["x"], "model": {}})", "model", "unknown field"},
  };
  for (const Case& c : cases) {
    auto r = CommandJobFromJson(Json::parse(c.json), "job.json");
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().field(), c.field) << c.json << ": " << r.status().ToString();
    EXPECT_NE(r.status().ToString().find(c.fragment), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().ToString().find("job.json"), std::string::npos) << r.status().ToString();
  }
}

TEST(CommandJobTest, ParamArgumentsAreWhatAProgramParses) {
  EXPECT_EQ(ParamArgument(Json(0.001)), "0.001");
  EXPECT_EQ(ParamArgument(Json(64)), "64");
  EXPECT_EQ(ParamArgument(Json("adam")), "adam");
  EXPECT_EQ(ParamArgument(Json(false)), "false");
  EXPECT_EQ(ParamArgument(Json::parse(R"({"a": 1})")), R"({"a":1})");
}

}  // namespace
}  // namespace avctl
