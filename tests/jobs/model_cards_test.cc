// docs/MODELS.md is the cards' text and this test keeps it true: every
// setting of a job has a row in the Defaults card with the value a
// default-constructed job has, and each variant's preset equals the
// Defaults overlaid with its own card's rows.
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "worker/job_config.h"

namespace avctl {
namespace {

using Card = std::map<std::string, Json>;  // setting path -> value

// "## name" sections; rows "| `path` | `value` | ... |".
std::map<std::string, Card> ReadCards(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::map<std::string, Card> cards;
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      section = line.substr(3);
      cards[section];
      continue;
    }
    if (line.rfind("| `", 0) != 0 || section.empty()) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '|')) cells.push_back(cell);
    if (cells.size() < 3) continue;
    auto unquote = [](std::string s) {
      const size_t a = s.find('`'), b = s.rfind('`');
      return a == std::string::npos || b <= a ? std::string() : s.substr(a + 1, b - a - 1);
    };
    const std::string key = unquote(cells[1]), value = unquote(cells[2]);
    Json parsed = Json::parse(value, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << section << ": " << key << " has a value that is not JSON: " << value;
    EXPECT_EQ(cards[section].count(key), 0u) << section << ": " << key << " twice";
    cards[section][key] = parsed;
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
  void SetUp() override { cards_ = ReadCards(std::string(AVCTL_SOURCE_DIR) + "/docs/MODELS.md"); }
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

}  // namespace
}  // namespace avctl
