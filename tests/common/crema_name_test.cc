#include "common/crema_name.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

TEST(CremaNameTest, ParsesAllParts) {
  auto r = ParseCremaClipName("1001_DFA_ANG_XX");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stem, "1001_DFA_ANG_XX");
  EXPECT_EQ(r->actor, 1001);
  EXPECT_EQ(r->sentence, "DFA");
  EXPECT_EQ(r->emotion, Emotion::kAnger);
  EXPECT_EQ(r->level, IntensityLevel::kUnspecified);
}

TEST(CremaNameTest, StripsDirectoryAndExtension) {
  auto r = ParseCremaClipName("/data/AudioWAV/1091_WSI_SAD_HI.wav");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stem, "1091_WSI_SAD_HI");
  EXPECT_EQ(r->actor, 1091);
  EXPECT_EQ(r->emotion, Emotion::kSadness);
  EXPECT_EQ(r->level, IntensityLevel::kHigh);
}

TEST(CremaNameTest, EveryLevelAndEmotion) {
  EXPECT_EQ(ParseCremaClipName("1002_IEO_DIS_LO")->level, IntensityLevel::kLow);
  EXPECT_EQ(ParseCremaClipName("1002_IEO_FEA_MD")->level, IntensityLevel::kMedium);
  EXPECT_EQ(ParseCremaClipName("1002_IEO_FEA_MD")->emotion, Emotion::kFear);
  EXPECT_EQ(ParseCremaClipName("1002_IEO_HAP_MD")->emotion, Emotion::kHappiness);
  EXPECT_EQ(ParseCremaClipName("1002_IEO_NEU_XX")->emotion, Emotion::kNeutral);
  EXPECT_EQ(ParseCremaClipName("1002_IEO_DIS_XX")->emotion, Emotion::kDisgust);
}

struct BadName {
  const char* name;
  const char* field;
  const char* fragment;
};

class CremaNameErrorTest : public ::testing::TestWithParam<BadName> {};

TEST_P(CremaNameErrorTest, NamesThePartAtFault) {
  auto r = ParseCremaClipName(GetParam().name);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), GetParam().field);
  EXPECT_NE(r.status().message().find(GetParam().fragment), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find(GetParam().name), std::string::npos) << "message quotes the name";
}

INSTANTIATE_TEST_SUITE_P(
    All, CremaNameErrorTest,
    ::testing::Values(BadName{"1001_DFA_ANG", "name", "4 parts"}, BadName{"1001_DFA_ANG_XX_YY", "name", "got 5"},
                      BadName{"", "name", "got 1"}, BadName{"10a1_DFA_ANG_XX", "actor", "not a number"},
                      BadName{"0999_DFA_ANG_XX", "actor", "outside 1001..1091"},
                      BadName{"1092_DFA_ANG_XX", "actor", "outside"}, BadName{"1001_XYZ_ANG_XX", "sentence", "XYZ"},
                      BadName{"1001_DFA_JOY_XX", "emotion", "JOY"}, BadName{"1001_DFA_ANG_hi", "level", "hi"}),
    [](const ::testing::TestParamInfo<BadName>& info) {
      return std::string(info.param.field) + "_" + std::to_string(info.index);
    });

TEST(EmotionsTest, OneOrderEverywhere) {
  const auto& all = AllEmotions();
  ASSERT_EQ(all.size(), 6u);
  const char* codes[] = {"ANG", "DIS", "FEA", "HAP", "NEU", "SAD"};
  const char* columns[] = {"angry", "disgust", "fear", "happy", "neutral", "sad"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(all[i].code, codes[i]);
    EXPECT_EQ(all[i].csv_column, columns[i]);
    EXPECT_EQ(EmotionIndex(all[i].emotion), i);
    EXPECT_EQ(EmotionFromCode(codes[i]), all[i].emotion);
    EXPECT_EQ(EmotionFromCsvColumn(columns[i]), all[i].emotion);
    EXPECT_EQ(EmotionFromName(all[i].name), all[i].emotion);
    EXPECT_EQ(EmotionFromIndex(i), all[i].emotion);
  }
  EXPECT_FALSE(EmotionFromCode("ang").has_value());
  EXPECT_FALSE(EmotionFromIndex(6).has_value());
  EXPECT_FALSE(EmotionFromIndex(-1).has_value());
}

TEST(CremaNameTest, TwelveSentences) {
  EXPECT_EQ(CremaSentences().size(), 12u);
  for (auto s : CremaSentences()) {
    EXPECT_TRUE(ParseCremaClipName("1001_" + std::string(s) + "_NEU_XX").ok()) << s;
  }
}

}  // namespace
}  // namespace avctl
