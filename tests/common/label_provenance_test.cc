#include "common/label_provenance.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

LabelProvenance Msp() {
  LabelProvenance p;
  p.format = "msp-podcast";
  p.columns = {{"clip", "FileName"}, {"group", "SpkrID"}, {"label", "EmoClass"}, {"gender", "Gender"}, {"split", "Split_Set"}};
  p.dropped = {{"O", 54}, {"X", 55}};
  p.excluded_splits = {{"Test2", 80}, {"Test3", 7}};
  return p;
}

TEST(LabelProvenanceTest, RoundTripsAndIsWrittenAsStoresHoldIt) {
  const Json j = LabelProvenanceToJson(Msp());
  // The form synth and import have written since stores held other corpora.
  EXPECT_EQ(j, Json::parse(R"({"format": "msp-podcast",
    "columns": {"clip": "FileName", "gender": "Gender", "group": "SpkrID", "label": "EmoClass", "split": "Split_Set"},
    "merged": {}, "dropped": {"O": 54, "X": 55}, "excluded_splits": {"Test2": 80, "Test3": 7},
    "soft_labels": "one-hot"})"));
  auto back = LabelProvenanceFromJson(j, "provenance.labels");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(LabelProvenanceToJson(*back), j);
  EXPECT_EQ(back->excluded_splits.at("Test3"), 7);
  // A store of MSP-Podcast's Test2 says so, and the line names it.
  LabelProvenance t2 = Msp();
  t2.test_split = "Test2";
  t2.excluded_splits = {{"Test1", 80}, {"Test3", 7}};
  EXPECT_EQ(LabelProvenanceToJson(t2)["test_split"], "Test2");
  auto t2_back = LabelProvenanceFromJson(LabelProvenanceToJson(t2), "provenance.labels");
  ASSERT_TRUE(t2_back.ok());
  EXPECT_EQ(t2_back->test_split, "Test2");
  EXPECT_EQ(DescribeLabelProvenance(t2),
            "msp-podcast file, Test2 as Test; dropped labels: O 54, X 55; left-out splits: Test1 80, Test3 7; merged: "
            "none");
}

TEST(LabelProvenanceTest, DescribesWhatTheReaderDroppedLeftOutAndMerged) {
  EXPECT_EQ(DescribeLabelProvenance(Msp()),
            "msp-podcast file; dropped labels: O 54, X 55; left-out splits: Test2 80, Test3 7; merged: none");
  LabelProvenance g;
  g.format = "generic";
  g.merged = {{"exc", "hap"}};
  g.dropped = {{"fru", 12}};
  EXPECT_EQ(DescribeLabelProvenance(g), "generic file; dropped labels: fru 12; left-out splits: none; merged: exc=hap");
}

TEST(LabelProvenanceTest, OptionalPartsMayBeAbsentAndBadOnesNameTheirField) {
  auto minimal = LabelProvenanceFromJson(Json{{"format", "generic"}}, "store.labels");
  ASSERT_TRUE(minimal.ok()) << minimal.status().ToString();
  EXPECT_TRUE(minimal->dropped.empty());
  EXPECT_EQ(minimal->soft_labels, "one-hot");

  const struct {
    Json value;
    const char* field;
  } bad[] = {
      {Json("msp-podcast"), "store.labels"},
      {Json::object(), "store.labels.format"},
      {Json{{"format", "generic"}, {"dropped", {{"O", "many"}}}}, "store.labels.dropped.O"},
      {Json{{"format", "generic"}, {"excluded_splits", {1, 2}}}, "store.labels.excluded_splits"},
      {Json{{"format", "generic"}, {"merged", {{"exc", 3}}}}, "store.labels.merged.exc"},
      {Json{{"format", "generic"}, {"soft_labels", false}}, "store.labels.soft_labels"},
      {Json{{"format", "msp-podcast"}, {"test_split", 2}}, "store.labels.test_split"},
  };
  for (const auto& b : bad) {
    auto p = LabelProvenanceFromJson(b.value, "store.labels");
    ASSERT_FALSE(p.ok()) << b.value.dump();
    EXPECT_EQ(p.status().field(), b.field) << p.status().ToString();
  }
}

}  // namespace
}  // namespace avctl
