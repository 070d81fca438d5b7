#include "store/synth_dataset.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "store/feature_store.h"
#include "tests/store/test_util.h"

namespace avctl {
namespace {

TEST(SynthDatasetTest, ASpecNamesAnotherCorpussLabelsAndTheCacheKnowsTheirContents) {
  const Json j = Json::parse(R"({"profile": "tiny", "clips_per_actor": 0, "audio_only": true,
      "labels": {"files": ["LABELS"], "format": "msp-podcast", "classes": ["A", "S", "H", "N"]}})");
  const std::string root = testutil::FreshDir("");
  const std::string labels = root + "/labels_consensus.csv";
  { std::ofstream(labels) << testutil::MspPodcastLabelsCsv(20, 10); }
  Json spec = j;
  spec["labels"]["files"][0] = labels;
  auto o = SynthOptionsFromJson(spec, "dataset.synth");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->audio_only);
  EXPECT_EQ(o->labels.format, LabelFormat::kMspPodcast);
  EXPECT_EQ(o->label_files, (std::vector<std::string>{labels}));
  auto name = SynthCacheNameWithLabels(*o);
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_NE(*name, SynthCacheName(*o)) << "the labels' checksum is part of the name";

  Logger log(stderr, LogLevel::kError);
  auto dir = EnsureSynthStore(*o, root + "/cache", &log);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  auto store = FeatureStore::Open(*dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_FALSE((*store)->has_visual());
  EXPECT_EQ((*store)->num_classes(), 4);

  // Other contents, another store.
  { std::ofstream(labels) << testutil::MspPodcastLabelsCsv(20, 11); }
  auto renamed = SynthCacheNameWithLabels(*o);
  ASSERT_TRUE(renamed.ok());
  EXPECT_NE(*renamed, *name);
  // Another MSP-Podcast test set, another store.
  SynthOptions test2 = *o;
  test2.labels.msp_test_set = "Test2";
  auto test2_name = SynthCacheNameWithLabels(test2);
  ASSERT_TRUE(test2_name.ok());
  EXPECT_NE(*test2_name, *renamed);
  spec["labels"]["msp_test_set"] = "Test2";
  auto parsed = SynthOptionsFromJson(spec, "dataset.synth");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->labels.msp_test_set, "Test2");

  // The shipped examples are found relative to the data folder.
  auto shipped = SynthOptionsFromJson(
      Json::parse(R"({"profile": "tiny", "labels": {"files": ["examples/iemocap_style_labels.csv"],
                  "format": "generic", "group_column": "speaker", "merge": {"exc": "hap"}}})"),
      "dataset.synth");
  ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
  EXPECT_TRUE(SynthCacheNameWithLabels(*shipped).ok()) << "the file is found and read";
}

TEST(SynthDatasetTest, BadLabelsFieldsAreNamed) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"profile": "tiny", "labels": {"format": "generic"}})", "dataset.synth.labels.files"},
      {R"({"profile": "tiny", "labels": {"files": ["x.csv"], "format": "iemocap"}})", "dataset.synth.labels.format"},
      {R"({"profile": "tiny", "labels": {"files": ["x.csv"], "colums": 1}})", "dataset.synth.labels.colums"},
      {R"({"profile": "tiny", "labels": {"files": ["x.csv"], "classes": ["a", "b"]}})", "dataset.synth.labels.format"},
      {R"({"profile": "tiny", "labels": {"files": [""]}})", "dataset.synth.labels.files[0]"},
      {R"({"profile": "tiny", "labels": {"files": ["x.csv"], "format": "generic", "merge": {"exc": 1}}})",
       "dataset.synth.labels.merge.exc"},
      {R"({"profile": "tiny", "audio_only": true, "visual_dim": 8})", "dataset.synth.visual_dim"},
      {R"({"profile": "tiny", "labels": {"files": ["x.csv"], "format": "generic", "msp_test_set": "Test2"}})",
       "dataset.synth.labels.msp_test_set"},
      {R"({"profile": "tiny", "labels": {"files": ["x.csv"], "format": "msp-podcast", "msp_test_set": "Test4"}})",
       "dataset.synth.labels.msp_test_set"},
      {R"({"profile": "tiny", "labels": {"files": ["x.csv"], "format": "msp-podcast", "msp_test_set": 2}})",
       "dataset.synth.labels.msp_test_set"},
  };
  for (const Case& c : cases) {
    auto o = SynthOptionsFromJson(Json::parse(c.json), "dataset.synth");
    ASSERT_FALSE(o.ok()) << c.json;
    EXPECT_EQ(o.status().field(), c.field) << c.json << ": " << o.status().ToString();
  }
}

}  // namespace
}  // namespace avctl
