// docs/MODELS.md is the cards' text and this test keeps it true: every
// setting of a job has a row in the Defaults card with the value a
// default-constructed job has, and each variant's preset equals the
// Defaults overlaid with its own card's rows.
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "web/model_cards.h"
#include "sweeps/job_config.h"

namespace avctl {
namespace {

using Card = std::map<std::string, Json>;  // setting path -> value

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::map<std::string, Card> ReadCards(const std::string& markdown) {
  std::map<std::string, Card> cards;
  for (const ModelCard& c : ParseModelCards(markdown)) {
    Card& card = cards[c.name];
    for (const CardRow& r : c.rows) {
      EXPECT_FALSE(r.value.is_discarded()) << c.name << ": " << r.setting << " has a value that is not JSON";
      EXPECT_EQ(card.count(r.setting), 0u) << c.name << ": " << r.setting << " twice";
      EXPECT_FALSE(r.source.empty()) << c.name << ": " << r.setting << " has no source";
      card[r.setting] = r.value;
    }
  }
  return cards;
}

// The model.* and train.* settings of a job as path -> value.
Card Settings(const JobConfig& c) {
  Card out;
  const Json j = JobConfigToJson(c);
  for (const char* group : {"model", "train"}) {
    for (const auto& [k, v] : j[group].items()) out[std::string(group) + "." + k] = v;
  }
  return out;
}

class ModelCardsTest : public ::testing::Test {
 protected:
  void SetUp() override { cards_ = ReadCards(ReadFile(std::string(AVCTL_SOURCE_DIR) + "/docs/MODELS.md")); }
  std::map<std::string, Card> cards_;
};

TEST_F(ModelCardsTest, TheDefaultsCardHoldsEverySettingWithItsValue) {
  ASSERT_TRUE(cards_.count("Defaults"));
  const Card& defaults = cards_["Defaults"];
  const Card actual = Settings(JobConfig{});
  for (const auto& [path, value] : actual) {
    auto it = defaults.find(path);
    ASSERT_NE(it, defaults.end()) << path << " has no row in the Defaults card";
    EXPECT_EQ(it->second, value) << path << ": card " << it->second.dump() << ", code " << value.dump();
  }
  for (const auto& [path, value] : defaults) EXPECT_TRUE(actual.count(path)) << path << " is not a setting";
}

TEST_F(ModelCardsTest, EachVariantIsTheDefaultsAndItsCard) {
  const Card& defaults = cards_["Defaults"];
  for (const auto& variant : VariantNames()) {
    ASSERT_TRUE(cards_.count(variant)) << "no card for " << variant;
    Card expected = defaults;
    for (const auto& [path, value] : cards_[variant]) {
      ASSERT_TRUE(defaults.count(path)) << variant << ": " << path << " is not a setting";
      expected[path] = value;
    }
    const Card actual = Settings(*VariantPreset(variant));
    for (const auto& [path, value] : actual) {
      EXPECT_EQ(expected[path], value) << variant << ": " << path << " is " << value.dump() << " in the code, "
                                       << expected[path].dump() << " by its card";
    }
  }
}

TEST_F(ModelCardsTest, TheBinariesCarryTheCurrentCards) {
  const auto shipped = ParseModelCards(ReadFile(std::string(AVCTL_SOURCE_DIR) + "/docs/MODELS.md"));
  ASSERT_EQ(ShippedModelCards().size(), shipped.size());
  for (size_t i = 0; i < shipped.size(); ++i) {
    EXPECT_EQ(ShippedModelCards()[i].name, shipped[i].name);
    EXPECT_EQ(ShippedModelCards()[i].rows.size(), shipped[i].rows.size());
  }
  const ModelCard* ps = FindModelCard("ps2020");
  ASSERT_NE(ps, nullptr);
  EXPECT_NE(ps->intro.find("*interpretation*"), std::string::npos) << "its architecture is not published";
  EXPECT_NE(ps->intro.find("What changed, and why"), std::string::npos) << "the former wiring and why it went";
  bool marked = false;
  for (const auto& r : FindModelCard("Defaults")->rows) marked = marked || r.approximation;
  EXPECT_TRUE(marked);  // the pooling and the future mask rows
}

}  // namespace
}  // namespace avctl
