#include "sweeps/sweep_spec.h"

#include <set>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace avctl
