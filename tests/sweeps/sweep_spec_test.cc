#include "sweeps/sweep_spec.h"

#include <set>

#include <gtest/gtest.h>

#include "sweeps/command_job.h"
#include "tests/sweeps/bad_specs.h"

namespace avctl {
namespace {

Result<SweepSpec> Parse(const std::string& text) { return ParseSweepSpec(Json::parse(text), "spec.json"); }

std::string Shipped(const std::string& name) { return std::string(AVCTL_SOURCE_DIR) + "/sweeps/" + name; }

TEST(SweepSpecTest, ShippedSpecsParseAndExpand) {
  auto paper = ReadSweepSpec(Shipped("paper.json"));
  ASSERT_TRUE(paper.ok()) << paper.status().ToString();
  auto jobs = ExpandSweep(*paper);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(jobs->size(), 7u * 20u);
  EXPECT_EQ(paper->comparisons.size(), 2u);
  auto lambda = ReadSweepSpec(Shipped("lambda.json"));
  ASSERT_TRUE(lambda.ok()) << lambda.status().ToString();
  EXPECT_EQ(ExpandSweep(*lambda)->size(), (4u * 3u + 1u) * 10u);
  auto demo = ReadSweepSpec(Shipped("demo.json"));
  ASSERT_TRUE(demo.ok()) << demo.status().ToString();
  EXPECT_EQ(ExpandSweep(*demo)->size(), 20u);  // 2 conditions x 2 variants x 5 seeds
  auto sequential = ReadSweepSpec(Shipped("paper_sequential.json"));
  ASSERT_TRUE(sequential.ok()) << sequential.status().ToString();
  ASSERT_TRUE(sequential->sequential.has_value());
  EXPECT_EQ(sequential->sequential->design.looks, (std::vector<int>{5, 10, 15, 20}));
  EXPECT_EQ(ExpandSweep(*sequential)->size(), 7u * 20u);
  for (const char* other : {"four_class.json", "audio_only.json"}) {  // corpora that are not CREMA-D
    auto spec = ReadSweepSpec(Shipped(other));
    ASSERT_TRUE(spec.ok()) << other << ": " << spec.status().ToString();
    EXPECT_EQ(ExpandSweep(*spec)->size(), 10u) << other;
  }
}

TEST(SweepSpecTest, SeedMajorOrderStableKeysAndValidJobs) {
  auto spec = ReadSweepSpec(Shipped("paper.json"));
  auto jobs = ExpandSweep(*spec);
  ASSERT_TRUE(jobs.ok());
  // Seed 0 of every variant comes first.
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ((*jobs)[i].seed, 0u);
  EXPECT_EQ((*jobs)[7].seed, 1u);
  std::set<std::string> keys;
  for (const auto& j : *jobs) {
    EXPECT_TRUE(keys.insert(j.key).second) << "duplicate key " << j.key;
    auto cfg = JobConfigFromJson(j.job, j.key);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    EXPECT_EQ(cfg->seed, j.seed);
    EXPECT_EQ(cfg->key, j.key);
  }
  EXPECT_EQ((*jobs)[0].key, "paper/ladder_av/-/seed=0/partition=1");
  // Expanding again gives the same jobs: resubmission finds what already ran.
  auto again = ExpandSweep(*spec);
  for (size_t i = 0; i < jobs->size(); ++i) {
    EXPECT_EQ((*jobs)[i].key, (*again)[i].key);
    EXPECT_EQ((*jobs)[i].job, (*again)[i].job);
  }
}

TEST(SweepSpecTest, GridAndRandomSpaces) {
  auto spec = Parse(R"({"name": "s", "dataset": {"store": "x"}, "seeds": [3, 5], "partitions": [1, 2],
    "variants": [{"name": "lad", "variant": "ladder_av",
                  "space": {"model.lambda": [0.5, 1.0], "train.lr": {"log_uniform": [1e-4, 1e-2]},
                            "model.noise_std": {"uniform": [0.1, 0.5]}, "train.batch_size": {"int": [16, 64]}},
                  "samples": 3, "sample_seed": 9}]})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto jobs = ExpandSweep(*spec);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(jobs->size(), 2u * 3u * 2u * 2u);  // grid x samples x seeds x partitions
  std::set<std::string> points;
  for (const auto& j : *jobs) {
    points.insert(j.point);
    double lr = j.job["train"]["lr"].get<double>();
    EXPECT_GE(lr, 1e-4);
    EXPECT_LE(lr, 1e-2);
    int bs = j.job["train"]["batch_size"].get<int>();
    EXPECT_GE(bs, 16);
    EXPECT_LE(bs, 64);
  }
  EXPECT_EQ(points.size(), 6u);
  EXPECT_NE((*jobs)[0].point.find("model.lambda=0.5"), std::string::npos);
}

using testutil::BadSpec;

class SweepSpecErrorTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(SweepSpecErrorTest, NamesTheJsonPath) {
  auto r = Parse(GetParam().json);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().file(), "spec.json");
  EXPECT_EQ(r.status().field(), GetParam().field) << r.status().ToString();
  EXPECT_NE(r.status().message().find(GetParam().fragment), std::string::npos) << r.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(All, SweepSpecErrorTest, ::testing::ValuesIn(testutil::BadSpecs()),
                         [](const auto& info) { return info.param.name; });

#define SPEC(variants) R"({"name": "s", "dataset": {"store": "x"}, "seeds": 2, "variants": )" variants "}"

TEST(SweepSpecTest, SpaceValueOutOfRangeIsCaughtAtExpansion) {
  auto spec = Parse(SPEC(R"([{"name": "ladder_av", "space": {"train.labeled_fraction": [0.5, 2.0]}}])"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto jobs = ExpandSweep(*spec);
  ASSERT_FALSE(jobs.ok());
  EXPECT_EQ(jobs.status().field(), "variants[0].space.train.labeled_fraction");
  EXPECT_NE(jobs.status().message().find("train.labeled_fraction=2.0"), std::string::npos) << jobs.status().ToString();
}

TEST(SweepSpecTest, AnExpansionTooBigIsRefusedBeforeItIsBuilt) {
  // 100 x 100 x 100 grid points x 20 seeds = 20 million jobs.
  std::string values = "[";
  for (int i = 0; i < 100; ++i) values += (i ? "," : "") + std::to_string(i + 1);
  values += "]";
  auto spec = Parse(R"({"name": "s", "dataset": {"store": "x"}, "seeds": 20, "variants": [{"name": "ladder_av", )"
                    R"("space": {"train.epochs": )" + values + R"(, "train.batch_size": )" + values +
                    R"(, "model.lambda": )" + values + "}}]}");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto jobs = ExpandSweep(*spec);
  ASSERT_FALSE(jobs.ok());
  EXPECT_NE(jobs.status().message().find("expands to 20000000 jobs"), std::string::npos) << jobs.status().ToString();
}

TEST(SweepSpecTest, CommandVariantsExpandBesideBuiltInOnes) {
  // A command variant against a built-in baseline and a command variant of
  // another program: params declared once, set by overrides and the space.
  auto spec = Parse(R"({"name": "mine", "dataset": {"store": "/data/crema"}, "seeds": 2,
    "program": {"command": ["python3", "train.py", "--config", "{config}", "{args}"],
                "params": {"lr": 0.001, "hidden": 64}, "env": {"OMP_NUM_THREADS": "1"},
                "workdir": "/code/mine", "timeout_minutes": 30},
    "variants": [
      {"name": "mine", "kind": "command", "space": {"params.lr": [0.001, 0.01]}},
      {"name": "mine_small", "kind": "command", "role": "ablation", "overrides": {"params": {"hidden": 16}}},
      {"name": "theirs", "kind": "command", "role": "baseline",
       "program": {"command": ["./run.sh", "{param.depth}", "{seed}"], "params": {"depth": 3}, "workdir": "/code/theirs"}},
      {"name": "backbone", "role": "baseline"}],
    "comparisons": [{"variant": "mine", "baselines": ["theirs", "backbone"], "metric": "uar"},
                    {"variant": "mine", "baselines": ["theirs"], "metric": "macro_f1"}]})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->variants[0].kind, JobKind::kCommand);
  EXPECT_EQ(spec->variants[0].variant, "command");
  EXPECT_EQ(spec->variants[3].kind, JobKind::kTrain);
  auto jobs = ExpandSweep(*spec);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), (2u + 1u + 1u + 1u) * 2u);
  const ExpandedJob& first = (*jobs)[0];
  EXPECT_EQ(first.kind, JobKind::kCommand);
  EXPECT_EQ(first.key, "mine/mine/params.lr=0.001/seed=0/partition=1");
  EXPECT_EQ(first.job["params"], (Json{{"lr", 0.001}, {"hidden", 64}}));
  EXPECT_EQ(first.job["require_metrics"], (Json{"macro_f1", "uar"}));
  EXPECT_EQ(first.job["env"]["OMP_NUM_THREADS"], "1");
  EXPECT_EQ(first.job["timeout_minutes"], 30);
  const ExpandedJob& small = (*jobs)[2];
  EXPECT_EQ(small.variant, "mine_small");
  EXPECT_EQ(small.job["params"]["hidden"], 16);
  EXPECT_FALSE(small.job.contains("require_metrics"));  // in no comparison
  const ExpandedJob& theirs = (*jobs)[3];
  EXPECT_EQ(theirs.job["command"], (Json{"./run.sh", "{param.depth}", "{seed}"}));
  EXPECT_EQ(theirs.job["params"], (Json{{"depth", 3}}));  // its own params replace the sweep's whole
  EXPECT_EQ(theirs.job["workdir"], "/code/theirs");
  EXPECT_EQ((*jobs)[4].kind, JobKind::kTrain);
  EXPECT_EQ((*jobs)[4].job["variant"], "backbone");
  for (const auto& j : *jobs) {
    if (j.kind != JobKind::kCommand) continue;
    auto parsed = CommandJobFromJson(j.job, "job");
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  }
}

TEST(SweepSpecTest, CommandOnlySweepNeedsNoDatasetAndResolvesWorkdirAgainstTheSpecFile) {
  Json raw = Json::parse(R"({"name": "own", "kind": "command", "seeds": 3,
    "program": {"command": ["sh", "run.sh", "{result}"], "workdir": "examples/own"},
    "variants": [{"name": "a"}, {"name": "b", "role": "baseline"}]})");
  const Json resolved = ResolveSpecPaths(raw, "/home/me/specs");
  EXPECT_EQ(resolved["program"]["workdir"], "/home/me/specs/examples/own");
  auto spec = ParseSweepSpec(resolved, "own.json");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_TRUE(spec->dataset.is_null());
  EXPECT_EQ(spec->variants[1].kind, JobKind::kCommand);
  auto jobs = ExpandSweep(*spec);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(jobs->size(), 6u);
  // Sent unresolved (straight to the coordinator), a relative workdir is refused.
  auto unresolved = ParseSweepSpec(raw, "own.json");
  ASSERT_FALSE(unresolved.ok());
  EXPECT_EQ(unresolved.status().field(), "program.workdir");
}

TEST(SweepSpecTest, AComparisonsPointMustBeOneOfItsSweptVariantsPoints) {
  const std::string base = R"({"name": "g", "dataset": {"synth": {"profile": "tiny"}}, "seeds": 2,
    "variants": [{"name": "ladder_av", "role": "proposed", "space": {"model.lambda": [0.5, 1.0]}},
                 {"name": "backbone", "role": "baseline"}],
    "comparisons": [{"variant": ")";
  auto good = Parse(base + R"(ladder_av", "point": "model.lambda=0.5", "baselines": ["backbone"]}]})");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->comparisons[0].point, "model.lambda=0.5");
  EXPECT_TRUE(ExpandSweep(*good).ok());
  auto typo = Parse(base + R"(ladder_av", "point": "model.lambda=0.25", "baselines": ["backbone"]}]})");
  ASSERT_TRUE(typo.ok());
  auto jobs = ExpandSweep(*typo);
  ASSERT_FALSE(jobs.ok());
  EXPECT_EQ(jobs.status().field(), "comparisons[0].point");
  EXPECT_NE(jobs.status().ToString().find("model.lambda=0.5; model.lambda=1.0"), std::string::npos)
      << jobs.status().ToString();
  auto unswept = Parse(R"({"name": "g", "dataset": {"synth": {"profile": "tiny"}}, "seeds": 2,
    "variants": [{"name": "ladder_av", "role": "proposed"}, {"name": "backbone", "role": "baseline"}],
    "comparisons": [{"variant": "ladder_av", "point": "model.lambda=0.5", "baselines": ["backbone"]}]})");
  ASSERT_FALSE(unswept.ok());
  EXPECT_EQ(unswept.status().field(), "comparisons[0].point");
}

}  // namespace
}  // namespace avctl
