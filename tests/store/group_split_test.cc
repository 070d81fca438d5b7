// Group-independent, stratified, seeded partitions (store/group_split.h).
#include "store/group_split.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "common/random.h"
#include "common/text.h"

namespace avctl {
namespace {

const std::vector<std::string> kFour = {"anger", "happiness", "sadness", "neutral"};

// 40 speakers of 20 clips each, every speaker with their own class mix.
std::vector<LabelledItem> Speakers() {
  std::vector<LabelledItem> items;
  Rng rng(7);
  for (int s = 0; s < 40; ++s) {
    for (int i = 0; i < 20; ++i) {
      const int label = rng.Uniform() < 0.4 ? s % 4 : static_cast<int>(rng.Below(4));
      items.push_back({"spk" + std::to_string(100 + s), label});
    }
  }
  return items;
}

TEST(GroupSplit, PartitionsAreGroupDisjointNearTheirSharesWithEveryClassEverywhere) {
  const auto items = Speakers();
  GroupSplitOptions o;
  o.seed = 3;
  auto split = SplitByGroup(items, kFour, o);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  ASSERT_EQ(split->assignment.size(), 5u);
  ASSERT_EQ(split->groups.size(), 40u);
  for (size_t p = 0; p < 5; ++p) {
    // Each group sits in exactly one split: no speaker in two.
    std::map<std::string, Split> where;
    for (size_t g = 0; g < split->groups.size(); ++g) where[split->groups[g]] = split->assignment[p][g];
    std::map<Split, int64_t> clips;
    for (const auto& it : items) ++clips[where.at(it.group)];
    EXPECT_NEAR(static_cast<double>(clips[Split::kTrain]) / items.size(), 0.70, 0.05) << "partition " << p + 1;
    EXPECT_NEAR(static_cast<double>(clips[Split::kTest]) / items.size(), 0.15, 0.05) << "partition " << p + 1;
    for (int s = 0; s < 3; ++s) {
      for (int c = 0; c < 4; ++c) EXPECT_GT(split->counts[p][static_cast<size_t>(s)][static_cast<size_t>(c)], 0);
    }
  }
  EXPECT_NE(split->assignment[0], split->assignment[1]) << "partitions differ";
  // Reproducible from the seed; another seed gives other partitions.
  auto again = SplitByGroup(items, kFour, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->assignment, split->assignment);
  o.seed = 4;
  EXPECT_NE(SplitByGroup(items, kFour, o)->assignment, split->assignment);
}

TEST(GroupSplit, BySessionFiveGroupsGiveThreeOneAndOne) {
  std::vector<LabelledItem> items;
  for (int s = 1; s <= 5; ++s) {
    for (int i = 0; i < 40; ++i) items.push_back({"Ses0" + std::to_string(s), i % 4});
  }
  GroupSplitOptions o;
  o.partitions = 2;
  auto split = SplitByGroup(items, kFour, o);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  for (const auto& a : split->assignment) {
    EXPECT_EQ(std::count(a.begin(), a.end(), Split::kTrain), 3);
    EXPECT_EQ(std::count(a.begin(), a.end(), Split::kDevelopment), 1);
    EXPECT_EQ(std::count(a.begin(), a.end(), Split::kTest), 1);
  }
}

TEST(GroupSplit, ImpossibleClassesAndBadSharesAreRefusedNamingThem) {
  auto items = Speakers();
  // "neutral" only in two speakers' clips.
  for (auto& it : items) {
    if (it.label == 3) it.label = 0;
  }
  items.push_back({"spk100", 3});
  items.push_back({"spk101", 3});
  auto refused = SplitByGroup(items, kFour, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().ToString().find("class neutral is held by 2 group(s)"), std::string::npos)
      << refused.status().ToString();
  GroupSplitOptions bad;
  bad.train = 0.8;
  auto shares = SplitByGroup(Speakers(), kFour, bad);
  ASSERT_FALSE(shares.ok());
  EXPECT_EQ(shares.status().field(), "--train");
  EXPECT_NE(shares.status().ToString().find("sum to 1.1"), std::string::npos) << shares.status().ToString();
}

// The CSV the command writes: the rows as they were plus split_1..split_k,
// each partition group-disjoint, the partitions different, the same bytes
// from the same seed; a missing column is named.
TEST(GroupSplit, ALabelsCsvGetsOneSplitColumnPerPartition) {
  std::string csv = "FileName,SpkrID,EmoClass\n";
  Rng rng(5);
  for (int s = 0; s < 30; ++s) {
    for (int i = 0; i < 10; ++i) {
      const char c = "AHSN"[rng.Uniform() < 0.4 ? s % 4 : rng.Below(4)];
      csv += fmt::format("clip_{}_{}.wav,{},{}\n", s, i, 100 + s, c);
    }
  }
  GroupSplitOptions o;
  o.partitions = 3;
  auto out = SplitLabelsCsv(csv, "labels.csv", "SpkrID", "EmoClass", o);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->classes, (std::vector<std::string>{"A", "H", "N", "S"}));
  const auto lines = SplitOn(out->text, '\n');
  EXPECT_EQ(lines[0], "FileName,SpkrID,EmoClass,split_1,split_2,split_3");
  std::vector<std::map<std::string, std::set<std::string>>> where(3);  // partition -> speaker -> splits
  std::vector<std::string> columns(3);
  for (size_t n = 1; n < lines.size(); ++n) {
    if (lines[n].empty()) continue;
    const auto cells = SplitOn(lines[n], ',');
    ASSERT_EQ(cells.size(), 6u);
    for (int p = 0; p < 3; ++p) {
      where[static_cast<size_t>(p)][std::string(cells[1])].insert(std::string(cells[3 + static_cast<size_t>(p)]));
      columns[static_cast<size_t>(p)] += std::string(cells[3 + static_cast<size_t>(p)]);
    }
  }
  for (const auto& partition : where) {
    for (const auto& [speaker, splits] : partition) EXPECT_EQ(splits.size(), 1u) << speaker << " in two splits";
  }
  EXPECT_NE(columns[0], columns[1]) << "each partition draws its own split";
  EXPECT_NE(columns[1], columns[2]);
  EXPECT_EQ(SplitLabelsCsv(csv, "labels.csv", "SpkrID", "EmoClass", o)->text, out->text);
  auto missing = SplitLabelsCsv(csv, "labels.csv", "Speaker", "EmoClass", o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().field(), "--group");
  EXPECT_NE(missing.status().ToString().find("no column 'Speaker' (--group) in the header; the columns are: FileName, "
                                            "SpkrID, EmoClass"),
            std::string::npos)
      << missing.status().ToString();
  auto ragged = SplitLabelsCsv(csv + "x.wav,1\n", "labels.csv", "SpkrID", "EmoClass", o);
  ASSERT_FALSE(ragged.ok());
  EXPECT_EQ(ragged.status().line(), 302);
  EXPECT_NE(ragged.status().ToString().find("2 cells for 3 columns"), std::string::npos) << ragged.status().ToString();
}

}  // namespace
}  // namespace avctl
