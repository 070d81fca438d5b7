#include "store/labels.h"

#include <set>

#include <gtest/gtest.h>

#include "tests/store/test_util.h"

namespace avctl {
namespace {

using testutil::kLabelHeader;

TEST(LabelsTest, ParsesRowsByColumnName) {
  std::string text =
      "Split_Set,FileName,happy,neutral,fear,disgust,sad,angry,Gender,SpkrID\r\n"
      "Train,1001_DFA_ANG_XX.wav,0.01,0.01,0.104,0.01,0.01,0.856,Male,1001\r\n"
      "Test,1002_IEO_SAD_LO.wav,0.1,0.5,0.1,0.1,0.1,0.1,Female,1002\r\n";
  auto r = ParsePartitionLabels(text, "p.csv", 3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->partition, 3);
  const LabelRow& a = r->rows[0];
  EXPECT_EQ(a.name.stem, "1001_DFA_ANG_XX");
  EXPECT_FLOAT_EQ(a.soft[EmotionIndex(Emotion::kAnger)], 0.856f);
  EXPECT_FLOAT_EQ(a.soft[EmotionIndex(Emotion::kFear)], 0.104f);
  EXPECT_EQ(a.label, EmotionIndex(Emotion::kAnger));
  EXPECT_EQ(a.split, Split::kTrain);
  EXPECT_EQ(a.line, 2);
  // The perceived (soft-label) class wins over the intended one.
  EXPECT_EQ(r->rows[1].label, EmotionIndex(Emotion::kNeutral));
  EXPECT_EQ(r->rows[1].split, Split::kTest);
}

TEST(LabelsTest, HardLabelTiesPreferTheIntendedEmotion) {
  std::array<float, kNumEmotions> soft = {0.4f, 0.0f, 0.0f, 0.4f, 0.2f, 0.0f};
  EXPECT_EQ(HardLabel(soft, Emotion::kHappiness), EmotionIndex(Emotion::kHappiness));
  EXPECT_EQ(HardLabel(soft, Emotion::kAnger), EmotionIndex(Emotion::kAnger));
  EXPECT_EQ(HardLabel(soft, Emotion::kSadness), EmotionIndex(Emotion::kAnger));  // lowest index among the tied
}

struct BadLabels {
  std::string name;
  std::string body;  // after the standard header
  int64_t line;
  std::string field;
  std::string fragment;
};

class LabelsErrorTest : public ::testing::TestWithParam<BadLabels> {};

TEST_P(LabelsErrorTest, NamesFileLineAndField) {
  const BadLabels& p = GetParam();
  auto r = ParsePartitionLabels(std::string(kLabelHeader) + p.body, "bad.csv", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().file(), "bad.csv");
  EXPECT_EQ(r.status().line(), p.line) << r.status().ToString();
  EXPECT_EQ(r.status().field(), p.field) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find(p.fragment), std::string::npos) << r.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(
    All, LabelsErrorTest,
    ::testing::Values(
        BadLabels{"NotANumber", "1001_DFA_ANG_XX.wav,abc,0.2,0.2,0.2,0.2,0.2,1001,Male,Train\n", 2, "angry", "'abc' is not a number"},
        BadLabels{"OutOfRange", "1001_DFA_ANG_XX.wav,1.5,0,0,0,0,0,1001,Male,Train\n", 2, "angry", "outside [0, 1]"},
        BadLabels{"BadSum", "1001_DFA_ANG_XX.wav,0.5,0.1,0,0,0,0,1001,Male,Train\n", 2, "", "sum to 0.6000"},
        BadLabels{"CellCount", "1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1001,Male\n", 2, "", "expected 10 cells, got 9"},
        BadLabels{"BadName", "1001_DFA_XXX_XX.wav,1,0,0,0,0,0,1001,Male,Train\n", 2, "emotion", "unknown emotion code 'XXX'"},
        BadLabels{"SpeakerMismatch", "1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1002,Male,Train\n", 2, "SpkrID", "does not match actor 1001"},
        BadLabels{"BadGender", "1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1001,M,Train\n", 2, "Gender", "neither Male nor Female"},
        BadLabels{"BadSplit", "1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1001,Male,Validation\n", 2, "Split_Set", "'Validation'"},
        BadLabels{"Duplicate",
                  "1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1001,Male,Train\n1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1001,Male,Train\n",
                  3, "FileName", "listed twice (first on line 2)"},
        BadLabels{"SpeakerInTwoSplits",
                  "1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1001,Male,Train\n1001_IEO_ANG_XX.wav,1,0,0,0,0,0,1001,Male,Test\n",
                  3, "Split_Set", "not speaker-independent"},
        BadLabels{"BlankLineInside", "1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1001,Male,Train\n\n1002_DFA_ANG_XX.wav,1,0,0,0,0,0,1002,Male,Train\n",
                  3, "", "blank line"}),
    [](const auto& info) { return info.param.name; });

TEST(LabelsTest, MissingColumnAndEmptyFile) {
  auto r = ParsePartitionLabels("FileName,angry,sad\n", "h.csv", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().line(), 1);
  EXPECT_NE(r.status().message().find("missing column"), std::string::npos);
  auto e = ParsePartitionLabels("", "e.csv", 1);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().ToString().find("e.csv"), std::string::npos);
  auto h = ParsePartitionLabels(kLabelHeader, "only-header.csv", 1);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("no clips"), std::string::npos);
}

TEST(LabelsTest, PartitionNumberFromFileName) {
  auto r = ReadPartitionLabels(testutil::ShippedLabels(4));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->partition, 4);
  auto missing = ReadPartitionLabels("/nonexistent/partition_2.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().file(), "/nonexistent/partition_2.csv");
}

TEST(LabelsTest, ShippedPartitionsAreSpeakerIndependentCremaD) {
  std::vector<std::string> files;
  for (int p = 1; p <= 5; ++p) files.push_back(testutil::ShippedLabels(p));
  auto corpus = LoadCorpus(files);
  ASSERT_TRUE(corpus.ok()) << corpus.status().ToString();
  EXPECT_EQ(corpus->clips.size(), 5820u);
  EXPECT_EQ(corpus->partitions, (std::vector<int>{1, 2, 3, 4, 5}));
  std::set<std::string> actors;
  for (const auto& c : corpus->clips) actors.insert(c.group);
  EXPECT_EQ(actors.size(), 91u);
  for (size_t p = 0; p < 5; ++p) {
    std::array<std::set<std::string>, kNumSplits> split_actors;
    for (const auto& c : corpus->clips) split_actors[static_cast<int>(c.splits[p])].insert(c.group);
    EXPECT_EQ(split_actors[0].size(), 63u) << "partition " << p + 1;
    EXPECT_EQ(split_actors[1].size(), 14u);
    EXPECT_EQ(split_actors[2].size(), 14u);
  }
  // The partitions differ in their splits.
  size_t differing = 0;
  for (const auto& c : corpus->clips) differing += c.splits[0] != c.splits[1];
  EXPECT_GT(differing, 0u);
}

TEST(LabelsTest, MergeRejectsDisagreeingFiles) {
  auto a = ParsePartitionLabels(std::string(kLabelHeader) + "1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1001,Male,Train\n", "a.csv", 1);
  auto b = ParsePartitionLabels(std::string(kLabelHeader) + "1001_DFA_ANG_XX.wav,0.9,0.1,0,0,0,0,1001,Male,Test\n", "b.csv", 2);
  auto c = ParsePartitionLabels(std::string(kLabelHeader) + "1002_DFA_ANG_XX.wav,1,0,0,0,0,0,1002,Male,Test\n", "c.csv", 3);
  auto a2 = ParsePartitionLabels(std::string(kLabelHeader) + "1001_DFA_ANG_XX.wav,1,0,0,0,0,0,1001,Male,Test\n", "a2.csv", 1);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && a2.ok());
  auto labels_differ = MergePartitions({*a, *b});
  ASSERT_FALSE(labels_differ.ok());
  EXPECT_EQ(labels_differ.status().file(), "b.csv");
  EXPECT_NE(labels_differ.status().message().find("labels of clip 1001_DFA_ANG_XX differ"), std::string::npos);
  auto other_clip = MergePartitions({*a, *c});
  ASSERT_FALSE(other_clip.ok());
  EXPECT_NE(other_clip.status().message().find("not in a.csv"), std::string::npos);
  auto same_number = MergePartitions({*a, *a2});
  ASSERT_FALSE(same_number.ok());
  EXPECT_NE(same_number.status().message().find("partition 1 given twice"), std::string::npos);
}

}  // namespace
}  // namespace avctl
