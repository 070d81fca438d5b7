#include "store/label_source.h"

#include <map>

#include <gtest/gtest.h>

namespace avctl {
namespace {

// An IEMOCAP-style table: five sessions, labels with "exc" to merge into
// "hap" and "fru" to drop, two partitions as `avctl data split` writes them.
std::string IemocapStyle() {
  std::string csv = "clip,session,label,gender,split_1,split_2\n";
  const char* labels[] = {"ang", "hap", "sad", "neu", "exc", "fru"};
  const char* p1[] = {"Train", "Train", "Train", "Development", "Test"};
  const char* p2[] = {"Test", "Train", "Train", "Train", "Development"};
  for (int s = 0; s < 5; ++s) {
    for (int i = 0; i < 12; ++i) {
      csv += "Ses0" + std::to_string(s + 1) + "_utt" + std::to_string(i) + ".wav,Ses0" + std::to_string(s + 1) + "," +
             labels[i % 6] + "," + (i % 2 ? "Male" : "Female") + "," + p1[s] + "," + p2[s] + "\n";
    }
  }
  return csv;
}

LabelSourceOptions Generic() {
  LabelSourceOptions o;
  o.format = LabelFormat::kGeneric;
  o.group_column = "session";
  o.gender_column = "gender";
  return o;
}

TEST(LabelSourceTest, AGenericCsvWithSplitColumnsGivesOnePartitionPerColumnAndTheKeptClasses) {
  LabelSourceOptions o = Generic();
  o.merge = {{"exc", "hap"}};
  o.classes = {"ang", "hap", "sad", "neu"};
  o.class_names = {"anger", "happiness", "sadness", "neutral"};
  auto c = ParseLabelSource({{"iemocap.csv", IemocapStyle()}}, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->classes, (std::vector<std::string>{"ang", "hap", "sad", "neu"}));
  EXPECT_EQ(c->class_names, (std::vector<std::string>{"anger", "happiness", "sadness", "neutral"}));
  EXPECT_EQ(c->partitions, (std::vector<int>{1, 2}));
  ASSERT_EQ(c->clips.size(), 50u) << "60 rows less 10 of fru";
  EXPECT_EQ(c->clips[0].id, "Ses01_utt0") << "the media extension is not part of the id";
  EXPECT_EQ(c->clips[0].group, "Ses01");
  EXPECT_EQ(c->clips[0].gender, "Female");
  EXPECT_TRUE(c->clips[0].sentence.empty() && c->clips[0].level.empty());
  int hap = 0;
  for (const auto& clip : c->clips) {
    ASSERT_EQ(clip.soft.size(), 4u);
    EXPECT_EQ(clip.soft[static_cast<size_t>(clip.label)], 1.0f) << "one-hot";
    EXPECT_EQ(clip.intended, clip.label);
    hap += clip.label == 1;
  }
  EXPECT_EQ(hap, 20) << "hap and the merged exc";
  EXPECT_EQ(c->clips[0].splits, (std::vector<Split>{Split::kTrain, Split::kTest}));
  EXPECT_EQ(c->clips.back().splits, (std::vector<Split>{Split::kTest, Split::kDevelopment}));
  EXPECT_EQ(c->label_provenance.dropped.at("fru"), 10);
  EXPECT_EQ(c->label_provenance.merged.at("exc"), "hap");
  // Without a subset every label is a class, sorted.
  auto all = ParseLabelSource({{"iemocap.csv", IemocapStyle()}}, Generic());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->classes, (std::vector<std::string>{"ang", "exc", "fru", "hap", "neu", "sad"}));
}

TEST(LabelSourceTest, MspPodcastKeepsTrainDevelopmentTest1AndCountsWhatItLeavesOut) {
  const std::string csv =
      "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
      "MSP-PODCAST_0001_0001.wav,A,5.2,2.0,5.0,10,Female,Train\n"
      "MSP-PODCAST_0001_0002.wav,H,4.0,6.0,4.0,10,Female,Train\n"
      "MSP-PODCAST_0001_0003.wav,O,4.0,4.0,4.0,10,Female,Train\n"
      "MSP-PODCAST_0001_0004.wav,S,2.0,2.0,3.0,10,Female,Train\n"
      "MSP-PODCAST_0002_0001.wav,N,4.0,4.0,4.0,Unknown,Unknown,Train\n"
      "MSP-PODCAST_0003_0001.wav,S,2.0,2.0,3.0,11,Male,Development\n"
      "MSP-PODCAST_0003_0002.wav,X,2.0,2.0,3.0,11,Male,Development\n"
      "MSP-PODCAST_0004_0001.wav,A,5.0,2.0,5.0,12,Male,Test1\n"
      "MSP-PODCAST_0005_0001.wav,H,5.0,2.0,5.0,13,Male,Test2\n"
      "MSP-PODCAST_0005_0002.wav,N,5.0,2.0,5.0,13,Male,Test3\n"
      "MSP-PODCAST_0006_0001.wav,N,4.0,4.0,4.0,Unknown,Unknown,Test1\n";
  LabelSourceOptions o;
  o.format = LabelFormat::kMspPodcast;
  o.classes = {"A", "H", "S", "N"};
  auto c = ParseLabelSource({{"labels_consensus.csv", csv}}, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->class_names, (std::vector<std::string>{"anger", "happiness", "sadness", "neutral"}));
  ASSERT_EQ(c->clips.size(), 7u);
  EXPECT_EQ(c->partitions, (std::vector<int>{1}));
  EXPECT_EQ(c->clips[0].id, "MSP-PODCAST_0001_0001");
  EXPECT_EQ(c->clips[0].group, "10");
  EXPECT_EQ(c->clips[5].id, "MSP-PODCAST_0004_0001");
  EXPECT_EQ(c->clips[5].splits, (std::vector<Split>{Split::kTest})) << "Test1 is the test split";
  EXPECT_EQ(c->label_provenance.dropped.at("O"), 1);
  EXPECT_EQ(c->label_provenance.dropped.at("X"), 1);
  EXPECT_EQ(c->label_provenance.excluded_splits.at("Test2"), 1);
  EXPECT_EQ(c->label_provenance.excluded_splits.at("Test3"), 1);
  EXPECT_EQ(c->label_provenance.format, "msp-podcast");
  // The default classes are the eight of labels_consensus.csv, O and X dropped.
  LabelSourceOptions msp;
  msp.format = LabelFormat::kMspPodcast;
  auto eight = ParseLabelSource({{"labels_consensus.csv", csv}}, msp);
  ASSERT_FALSE(eight.ok()) << "U, F, D and C have no clip in Train";
  EXPECT_NE(eight.status().message().find("class 'U' has no clip in Train"), std::string::npos) << eight.status().ToString();

  // Test2 as the test split (MSP-Podcast reports both): Test1 and Test3 are
  // left out and counted, and the store says which test set it holds.
  o.msp_test_set = "Test2";
  auto t2 = ParseLabelSource({{"labels_consensus.csv", csv}}, o);
  ASSERT_TRUE(t2.ok()) << t2.status().ToString();
  ASSERT_EQ(t2->clips.size(), 6u);
  EXPECT_EQ(t2->clips[5].id, "MSP-PODCAST_0005_0001");
  EXPECT_EQ(t2->clips[5].splits, (std::vector<Split>{Split::kTest}));
  EXPECT_EQ(t2->label_provenance.excluded_splits, (std::map<std::string, int64_t>{{"Test1", 2}, {"Test3", 1}}));
  EXPECT_EQ(t2->label_provenance.test_split, "Test2");
  EXPECT_EQ(c->label_provenance.test_split, "Test1");
  for (const char* bad : {"Test4", "test2", ""}) {
    o.msp_test_set = bad;
    auto refused = ParseLabelSource({{"labels_consensus.csv", csv}}, o);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().field(), "--msp-test-set") << refused.status().ToString();
  }
  o.msp_test_set = "Test2";
  o.exclude_splits = {"Test2"};
  EXPECT_EQ(ParseLabelSource({{"labels_consensus.csv", csv}}, o).status().field(), "--msp-test-set")
      << "the test set cannot also be left out";
}

TEST(LabelSourceTest, SoftColumnsAreRenormalisedOverTheKeptClasses) {
  const std::string csv =
      "clip,speaker,label,ang,hap,sad,split\n"
      "a1,s1,ang,0.6,0.2,0.2,Train\nb1,s2,hap,0.1,0.5,0.4,Train\nc1,s3,sad,0,0,1,Train\n"
      "a2,s4,ang,1,0,0,Dev\nb2,s5,hap,0,1,0,Test\n";
  LabelSourceOptions o = Generic();
  o.group_column = "speaker";
  o.gender_column.clear();
  o.soft_columns = true;
  o.classes = {"ang", "hap"};
  auto c = ParseLabelSource({{"soft.csv", csv}}, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->clips.size(), 4u);
  EXPECT_FLOAT_EQ(c->clips[0].soft[0], 0.75f);
  EXPECT_FLOAT_EQ(c->clips[0].soft[1], 0.25f);
  EXPECT_FLOAT_EQ(c->clips[1].soft[1], 0.5f / 0.6f);
  EXPECT_EQ(c->clips[2].splits[0], Split::kDevelopment) << "Dev is Development";
}

struct BadCase {
  const char* name;
  std::string csv;
  std::string field;
  int64_t line;
  std::string message;
};

class LabelSourceErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(LabelSourceErrorTest, NamesFileLineAndField) {
  const BadCase& b = GetParam();
  LabelSourceOptions o;
  o.format = LabelFormat::kGeneric;
  auto c = ParseLabelSource({{"bad.csv", b.csv}}, o);
  ASSERT_FALSE(c.ok()) << b.name;
  EXPECT_EQ(c.status().file(), "bad.csv") << b.name;
  EXPECT_EQ(c.status().field(), b.field) << c.status().ToString();
  EXPECT_EQ(c.status().line(), b.line) << c.status().ToString();
  EXPECT_NE(c.status().ToString().find(b.message), std::string::npos) << c.status().ToString();
}

const std::string kRows = "a,s1,x,Train\nb,s2,y,Train\nc,s3,x,Test\nd,s4,y,Development\n";

INSTANTIATE_TEST_SUITE_P(
    All, LabelSourceErrorTest,
    ::testing::Values(
        BadCase{"MissingColumn", "clip,spk,label,split\n" + kRows, "--group-column", 1, "no column 'speaker'"},
        BadCase{"NoSplit", "clip,speaker,label\na,s1,x\nb,s2,y\n", "--split-column", 1, "no split column"},
        BadCase{"BadSplit", "clip,speaker,label,split\na,s1,x,Train\nb,s2,y,Holdout\n", "split", 3,
                "'Holdout' is not Train, Development or Test"},
        BadCase{"Duplicate", "clip,speaker,label,split\n" + kRows + "a,s1,x,Train\n", "clip", 6, "listed twice"},
        BadCase{"EmptyGroup", "clip,speaker,label,split\na,,x,Train\nb,s2,y,Train\n", "speaker", 2, "empty group"},
        BadCase{"Ragged", "clip,speaker,label,split\na,s1,x\n", "", 2, "3 cells for 4 columns"},
        BadCase{"GroupInTwoSplits", "clip,speaker,label,split\n" + kRows + "e,s1,y,Test\n", "speaker", 0,
                "group 's1' is in Train and in Test of partition 1"},
        BadCase{"OneClass", "clip,speaker,label,split\na,s1,x,Train\n", "--classes", 0, "at least two"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(LabelSourceTest, MergeListsAreParsedAndBadOnesNamed) {
  auto m = ParseMergeList("exc=hap, fru = ang", "--merge");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (std::vector<std::pair<std::string, std::string>>{{"exc", "hap"}, {"fru", "ang"}}));
  auto bad = ParseMergeList("exc", "--merge");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "--merge");
  EXPECT_FALSE(ParseMergeList("exc=hap,exc=ang", "--merge").ok());
}

}  // namespace
}  // namespace avctl
