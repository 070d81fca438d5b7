#include "sweeps/job_config.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

Result<JobConfig> Parse(const std::string& text) { return JobConfigFromJson(Json::parse(text), "job.json"); }

TEST(JobConfigTest, DefaultsFollowAuxFormerAndThePaper) {
  auto c = Parse("{}");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->variant, "ladder_av");
  EXPECT_EQ(c->model.head, Head::kLadder);
  EXPECT_EQ(c->model.heads, 10);
  EXPECT_EQ(c->model.cross_layers, 5);
  EXPECT_DOUBLE_EQ(c->model.noise_std, 0.3);
  EXPECT_DOUBLE_EQ(c->train.lr, 7.25e-4);
  EXPECT_EQ(c->train.batch_size, 32);
  EXPECT_EQ(c->train.epochs, 30);
  EXPECT_DOUBLE_EQ(c->train.clip_norm, 0.8);
  EXPECT_EQ(c->train.select_by, SelectBy::kDevLoss);
  EXPECT_TRUE(c->model.future_mask);  // AuxFormer's --attn_mask is store_false: on unless asked off
}

TEST(JobConfigTest, VariantsAreSwitchesOfOneModel) {
  EXPECT_EQ(VariantPreset("backbone")->model.head, Head::kMlp);
  EXPECT_FALSE(VariantPreset("ladder_no_cross")->model.ladder_cross);
  EXPECT_TRUE(VariantPreset("ladder_no_cross")->model.ladder_av);
  EXPECT_FALSE(VariantPreset("ladder_no_av")->model.ladder_av);
  EXPECT_EQ(VariantPreset("ladder_same_modality")->model.lateral, Lateral::kSame);
  auto mult = VariantPreset("mult");
  EXPECT_EQ(mult->model.d_model, 30);
  EXPECT_EQ(mult->model.heads, 5);
  EXPECT_EQ(mult->model.self_layers, 5);  // max(nlevels, 3) in MulT's get_network
  EXPECT_TRUE(mult->model.self_positions);
  EXPECT_DOUBLE_EQ(mult->train.clip_norm, 0.8);
  EXPECT_FALSE(mult->model.auxiliary);
  EXPECT_EQ(mult->train.batch_size, 24);
  EXPECT_EQ(mult->train.epochs, 40);
  auto ps = VariantPreset("ps2020");
  EXPECT_TRUE(ps->model.fusion) << "one audio-visual transformer, trained on its fused prediction";
  EXPECT_FALSE(ps->model.auxiliary);
  EXPECT_GT(ps->model.visual_ablation_p, 0.0);
  EXPECT_EQ(ps->model.visual_ablation, VisualAblation::kFrame);
  for (const auto& v : VariantNames()) EXPECT_TRUE(VariantPreset(v).ok()) << v;
}

TEST(JobConfigTest, OverridesApplyOnTopOfThePreset) {
  auto c = Parse(R"({"variant": "mult", "seed": 7, "partition": 3, "model": {"heads": 6}, "train": {"lr": 0.01}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->seed, 7u);
  EXPECT_EQ(c->partition, 3);
  EXPECT_EQ(c->model.heads, 6);
  EXPECT_EQ(c->model.d_model, 30);
  EXPECT_DOUBLE_EQ(c->train.lr, 0.01);
  EXPECT_EQ(c->train.batch_size, 24);
}

TEST(JobConfigTest, RoundTripsThroughJson) {
  auto c = Parse(R"({"variant": "ladder_no_av", "seed": 3, "model": {"lambda_layers": [1, 0.5, 0.1]}})");
  ASSERT_TRUE(c.ok());
  auto back = JobConfigFromJson(JobConfigToJson(*c), "again");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(JobConfigToJson(*back), JobConfigToJson(*c));
}

// Parsing and writing walk one field table: every field the writer puts out
// is read back, and a changed value comes out changed (a field read into
// one member and written from another would not).
TEST(JobConfigTest, EveryWrittenFieldIsReadBackChanged) {
  const Json defaults = JobConfigToJson(*VariantPreset("backbone"));  // no ladder: every switch flips alone
  int fields = 0;
  for (const std::string section : {"", "model", "train"}) {
    const Json& obj = section.empty() ? defaults : defaults[section];
    for (const auto& [name, value] : obj.items()) {
      if (value.is_object() || name == "variant") continue;
      Json changed;
      if (value.is_boolean()) {
        changed = !value.get<bool>();
      } else if (value.is_number_integer()) {
        changed = name == "d_model" ? 20 : value.get<int64_t>() + 2;
      } else if (value.is_number()) {
        changed = value.get<double>() * 0.5;
      } else if (value.is_array()) {
        changed = Json::array({0.5, 0.25});
      } else if (name == "device") {
        changed = "cuda:1";
      } else {
        // A string: a free one takes any text; one with fixed values names
        // them when refused, and the first other one is taken.
        Json probe = section.empty() ? Json{{name, "zzz"}} : Json{{section, {{name, "zzz"}}}};
        probe["variant"] = "backbone";
        auto refused = JobConfigFromJson(probe, "probe");
        changed = "zzz";
        if (!refused.ok()) {
          const std::string msg = refused.status().message();
          ASSERT_NE(msg.find("expected one of"), std::string::npos) << name << ": " << msg;
          for (size_t q = msg.find('"'); q != std::string::npos; q = msg.find('"', msg.find('"', q + 1) + 1)) {
            const std::string option = msg.substr(q + 1, msg.find('"', q + 1) - q - 1);
            if (option != value.get<std::string>() && option != "zzz") {
              changed = option;
              break;
            }
          }
        }
      }
      Json job = section.empty() ? Json{{name, changed}} : Json{{section, {{name, changed}}}};
      job["variant"] = "backbone";
      // An audio-only model has no fusion network: read the other way round.
      if (name == "modalities") {
        job["variant"] = "backbone_audio";
        changed = job[section][name] = value;
      }
      auto c = JobConfigFromJson(job, "mutated");
      ASSERT_TRUE(c.ok()) << section << "." << name << " = " << changed.dump() << ": " << c.status().ToString();
      const Json out = JobConfigToJson(*c);
      EXPECT_EQ(section.empty() ? out[name] : out[section][name], changed) << section << "." << name;
      ++fields;
    }
  }
  EXPECT_GE(fields, 50);  // 7 top-level, 32 model, 14 train fields today
}

struct BadJob {
  std::string name;
  std::string json;
  std::string field;
  std::string fragment;
};

class JobConfigErrorTest : public ::testing::TestWithParam<BadJob> {};

TEST_P(JobConfigErrorTest, NamesTheField) {
  auto c = Parse(GetParam().json);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().file(), "job.json");
  EXPECT_EQ(c.status().field(), GetParam().field) << c.status().ToString();
  EXPECT_NE(c.status().message().find(GetParam().fragment), std::string::npos) << c.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(
    All, JobConfigErrorTest,
    ::testing::Values(
        BadJob{"UnknownVariant", R"({"variant": "lader_av"})", "variant", "unknown variant 'lader_av'"},
        BadJob{"Typo", R"({"model": {"noise_sd": 0.1}})", "model.noise_sd", "unknown field"},
        BadJob{"WrongType", R"({"train": {"lr": "fast"}})", "train.lr", "expected a number, got \"fast\""},
        BadJob{"BadEnum", R"({"model": {"pooling": "max"}})", "model.pooling", "expected one of \"last\", \"mean\""},
        BadJob{"NegativeSeed", R"({"seed": -1})", "seed", "non-negative"},
        BadJob{"HeadsDoNotDivide", R"({"model": {"d_model": 30, "heads": 7}})", "model.heads", "7 heads do not divide"},
        BadJob{"Fraction", R"({"train": {"labeled_fraction": 0}})", "train.labeled_fraction", "(0, 1]"},
        BadJob{"NoHeads", R"({"model": {"fusion": false, "auxiliary": false}})", "model.fusion", "needs the fusion"},
        BadJob{"Device", R"({"device": "tpu"})", "device", "cpu"},
        BadJob{"Prefetch", R"({"train": {"prefetch": -1}})", "train.prefetch", "[0, 64]"},
        BadJob{"LambdaLayer", R"({"model": {"lambda_layers": [1, -2]}})", "model.lambda_layers[1]", "negative"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace avctl
