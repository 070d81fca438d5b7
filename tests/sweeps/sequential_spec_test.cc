#include "sweeps/sequential_spec.h"

#include <gtest/gtest.h>

#include "sweeps/sweep_spec.h"

namespace avctl {
namespace {

// A spec of 10 seeds x 2 partitions = 20 pairs with the given "sequential".
Result<SweepSpec> WithSequential(const std::string& sequential) {
  return ParseSweepSpec(Json::parse(R"({"name": "s", "dataset": {"synth": {"profile": "tiny"}},
    "variants": [{"name": "ladder_av", "role": "proposed"}, {"name": "backbone", "role": "baseline"}],
    "comparisons": [{"variant": "ladder_av", "baselines": ["backbone"]}],
    "seeds": 10, "partitions": [1, 2], "sequential": )" + sequential + "}"),
                        "spec.json");
}

TEST(SequentialSpec, ParsesEveryFieldWithDefaults) {
  auto spec = WithSequential(R"({"looks": [6, 12, 20]})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_TRUE(spec->sequential.has_value());
  const SequentialSweep& s = *spec->sequential;
  EXPECT_EQ(s.design.looks, (std::vector<int>{6, 12, 20}));
  EXPECT_EQ(s.design.spending, AlphaSpending::kOBrienFleming);
  EXPECT_FALSE(s.design.futility);
  EXPECT_FALSE(s.design.strict);
  EXPECT_EQ(s.design.alpha, 0.05);
  EXPECT_EQ(s.release, StageRelease::kHeld);
  auto full = WithSequential(R"({"looks": [10, 20], "spending": "pocock", "futility": "non_binding", "beta": 0.1,
                                 "strict": true, "release": "speculative"})");
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->sequential->design.spending, AlphaSpending::kPocock);
  EXPECT_TRUE(full->sequential->design.futility);
  EXPECT_EQ(full->sequential->design.beta, 0.1);
  EXPECT_TRUE(full->sequential->design.strict);
  EXPECT_EQ(full->sequential->release, StageRelease::kSpeculative);
  const Json back = SequentialSweepToJson(*full->sequential);
  EXPECT_EQ(back["looks"], Json::parse("[10, 20]"));
  EXPECT_EQ(back["futility"], "non_binding");
  auto none = ParseSweepSpec(Json::parse(R"({"name": "s", "dataset": {"synth": {"profile": "tiny"}},
    "variants": [{"name": "backbone"}], "seeds": 2})"), "spec.json");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->sequential.has_value());
}

TEST(SequentialSpec, BadValuesAreRefusedNamingTheField) {
  struct Case {
    const char* sequential;
    const char* field;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {R"([5, 10])", "sequential", "expected an object"},
           {R"({"looks": []})", "sequential.looks", "list of matched-pair counts"},
           {R"({"looks": [4, 20], "typo": 1})", "sequential.typo", "unknown field"},
           {R"({"looks": [4, 18]})", "sequential.looks[1]", "the last look must be the sweep's pairs"},
           {R"({"looks": [5, 20]})", "sequential.looks[0]", "multiple of the 2 partitions"},
           {R"({"looks": [0, 20]})", "sequential.looks[0]", "expected 2 to 20 pairs"},
           {R"({"looks": [4.5, 20]})", "sequential.looks[0]", "whole number"},
           {R"({"looks": [12, 8, 20]})", "sequential.looks[1]", "looks must grow"},
           {R"({"looks": [10, 20], "spending": "obrien-fleming"})", "sequential.spending", "obrien_fleming"},
           {R"({"looks": [10, 20], "futility": "binding"})", "sequential.futility", "non_binding"},
           {R"({"looks": [10, 20], "beta": 0.2})", "sequential.beta", "only with"},
           {R"({"looks": [10, 20], "futility": "non_binding", "beta": 0.99})", "sequential.beta", "beta in"},
           {R"({"looks": [10, 20], "strict": "yes"})", "sequential.strict", ""},
           {R"({"looks": [10, 20], "release": "eager"})", "sequential.release", "speculative"},
       }) {
    auto spec = WithSequential(c.sequential);
    ASSERT_FALSE(spec.ok()) << c.sequential;
    EXPECT_EQ(spec.status().field(), c.field) << c.sequential << ": " << spec.status().ToString();
    EXPECT_NE(spec.status().ToString().find(c.says), std::string::npos) << spec.status().ToString();
    EXPECT_NE(spec.status().ToString().find("spec.json"), std::string::npos) << spec.status().ToString();
  }
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {

TEST(SequentialSpec, StagesFollowTheLooksInWholeSeeds) {
  SequentialDesignSpec d;
  d.looks = {10, 20, 30, 40};  // 2 partitions: seeds 0-4 in stage 0, 5-9 in 1, ...
  EXPECT_EQ(StageOfSeed(d, 0, 2), 0);
  EXPECT_EQ(StageOfSeed(d, 4, 2), 0);
  EXPECT_EQ(StageOfSeed(d, 5, 2), 1);
  EXPECT_EQ(StageOfSeed(d, 14, 2), 2);
  EXPECT_EQ(StageOfSeed(d, 19, 2), 3);
  EXPECT_EQ(StageOfSeed(d, 25, 2), 3) << "past the last look: the last stage";
  d.looks = {3, 8, 20};
  EXPECT_EQ(StageOfSeed(d, 2, 1), 0);
  EXPECT_EQ(StageOfSeed(d, 3, 1), 1);
  EXPECT_EQ(StageOfSeed(d, 8, 1), 2);
}

}  // namespace
}  // namespace avctl
