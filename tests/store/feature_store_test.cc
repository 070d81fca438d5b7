#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/float16.h"
#include "common/json_util.h"
#include "store/feature_store.h"
#include "store/store_info.h"
#include "store/store_writer.h"
#include "store/synth.h"
#include "tests/store/test_util.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

ClipRecord Clip(const std::string& id, int actor, int label, std::vector<Split> splits) {
  ClipRecord c;
  c.id = id;
  c.group = std::to_string(actor);
  c.gender = "Female";
  c.sentence = "DFA";
  c.level = "XX";
  c.intended = label;
  c.label = label;
  c.soft.assign(6, 0.0f);
  c.soft[label] = 1.0f;
  c.splits = std::move(splits);
  return c;
}

// Two partitions; dims audio 2, visual 3. Clip values are chosen so that the
// statistics can be checked by hand.
Status WriteSmallStore(const std::string& dir) {
  StoreLayout layout;
  layout.audio_dim = 2;
  layout.visual_dim = 3;
  layout.partitions = {1, 2};
  AVCTL_ASSIGN_OR_RETURN(auto w, StoreWriter::Create(dir, layout, false));
  // clip a: Train in p1, Test in p2. audio frames (1,10), (3,10); visual 2 frames.
  std::vector<float> a_audio = {1, 10, 3, 10};
  std::vector<float> a_visual = {0.5f, 1, 2, 1.5f, 1, 4};
  AVCTL_RETURN_IF_ERROR(w->AddClip(Clip("1001_DFA_ANG_XX", 1001, 0, {Split::kTrain, Split::kTest}), a_audio.data(), 2,
                                   a_visual.data(), 2));
  // clip b: Train in both. audio frame (5, 10); visual 1 frame.
  std::vector<float> b_audio = {5, 10};
  std::vector<float> b_visual = {0.25f, 1, 0};
  AVCTL_RETURN_IF_ERROR(w->AddClip(Clip("1002_DFA_SAD_XX", 1002, 5, {Split::kTrain, Split::kTrain}), b_audio.data(), 1,
                                   b_visual.data(), 1));
  return w->Finish(false, Json{{"kind", "test"}});
}

TEST(FeatureStoreTest, RoundTrip) {
  std::string dir = testutil::FreshDir("") + "/store";
  ASSERT_TRUE(WriteSmallStore(dir).ok());
  auto store = FeatureStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const FeatureStore& s = **store;
  ASSERT_EQ(s.num_clips(), 2u);
  EXPECT_EQ(s.clip(0).id, "1001_DFA_ANG_XX");
  EXPECT_EQ(s.clip(1).audio_offset, 2);
  EXPECT_EQ(s.clip(1).visual_offset, 2);
  EXPECT_EQ(s.audio(1)[0], 5.0f);
  EXPECT_EQ(s.audio(0)[3], 10.0f);
  EXPECT_EQ(HalfToFloat(s.visual(0)[5]), 4.0f);
  EXPECT_EQ(HalfToFloat(s.visual(1)[0]), 0.25f);
  EXPECT_FALSE(s.manifest().synthetic);
  EXPECT_EQ(s.manifest().provenance["kind"], "test");
  EXPECT_EQ(s.manifest().clips[1].splits, (std::vector<Split>{Split::kTrain, Split::kTrain}));
  EXPECT_EQ(*s.ClipsInSplit(2, Split::kTest), (std::vector<size_t>{0}));
  EXPECT_EQ(s.manifest().norm_stats.train_audio_frames, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(s.manifest().norm_stats.train_visual_frames, (std::vector<int64_t>{3, 1}));
}

TEST(FeatureStoreTest, NormStatsOverTrainFramesOfEachPartition) {
  std::string dir = testutil::FreshDir("") + "/store";
  ASSERT_TRUE(WriteSmallStore(dir).ok());
  auto store = FeatureStore::Open(dir);
  ASSERT_TRUE(store.ok());
  // Partition 1: audio dim 0 over frames {1, 3, 5}: mean 3, population std sqrt(8/3).
  auto p1 = (*store)->norm_stats(1);
  ASSERT_TRUE(p1.ok());
  EXPECT_FLOAT_EQ(p1->audio_mean[0], 3.0f);
  EXPECT_FLOAT_EQ(p1->audio_std[0], static_cast<float>(std::sqrt(8.0 / 3.0)));
  // Audio dim 1 is constant 10: std is stored as 1 so that normalising only centres it.
  EXPECT_FLOAT_EQ(p1->audio_mean[1], 10.0f);
  EXPECT_FLOAT_EQ(p1->audio_std[1], 1.0f);
  // Visual dim 2 over {2, 4, 0}: mean 2, std sqrt(8/3).
  EXPECT_FLOAT_EQ(p1->visual_mean[2], 2.0f);
  EXPECT_FLOAT_EQ(p1->visual_std[2], static_cast<float>(std::sqrt(8.0 / 3.0)));
  // Partition 2: only clip b is Train: a single frame, so std 0 -> 1.
  auto p2 = (*store)->norm_stats(2);
  ASSERT_TRUE(p2.ok());
  EXPECT_FLOAT_EQ(p2->audio_mean[0], 5.0f);
  EXPECT_FLOAT_EQ(p2->audio_std[0], 1.0f);
  EXPECT_FLOAT_EQ(p2->visual_mean[0], 0.25f);
  auto missing = (*store)->norm_stats(7);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("partition 7 is not in this store (it has 1, 2)"), std::string::npos);
}

void FlipByte(const std::string& path, long offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  char c;
  f.get(c);
  f.seekp(offset);
  f.put(static_cast<char>(c ^ 0x40));
}

TEST(FeatureStoreTest, CorruptedDataFailsItsChecksum) {
  for (const char* file : {kAudioFile, kVisualFile, kNormStatsFile}) {
    std::string dir = testutil::FreshDir(file) + "/store";
    ASSERT_TRUE(WriteSmallStore(dir).ok());
    FlipByte(dir + "/" + file, 3);
    auto store = FeatureStore::Open(dir);
    ASSERT_FALSE(store.ok()) << file;
    EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
    EXPECT_EQ(store.status().file(), dir + "/" + file);
    EXPECT_NE(store.status().message().find("checksum"), std::string::npos);
    // Without verification the store opens (sizes still match).
    FeatureStore::Options quick;
    quick.verify_checksums = false;
    EXPECT_TRUE(FeatureStore::Open(dir, quick).ok());
  }
}

TEST(FeatureStoreTest, TruncatedFileFailsItsSizeCheck) {
  std::string dir = testutil::FreshDir("") + "/store";
  ASSERT_TRUE(WriteSmallStore(dir).ok());
  fs::resize_file(dir + "/" + kVisualFile, 4);
  FeatureStore::Options quick;
  quick.verify_checksums = false;
  auto store = FeatureStore::Open(dir, quick);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store.status().field(), "visual");
  EXPECT_NE(store.status().message().find("holds 4 bytes but the manifest says 18"), std::string::npos)
      << store.status().ToString();
}

TEST(FeatureStoreTest, TamperedManifestNamesTheJsonPath) {
  std::string dir = testutil::FreshDir("") + "/store";
  ASSERT_TRUE(WriteSmallStore(dir).ok());
  std::string mpath = dir + "/" + kManifestFile;
  Json j = *ReadJsonFile(mpath);
  j["clips"][1]["audio"][0] = 1;  // offset no longer contiguous
  ASSERT_TRUE(WriteJsonFileAtomic(mpath, j).ok());
  auto store = FeatureStore::Open(dir);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().file(), mpath);
  EXPECT_EQ(store.status().field(), "clips[1].audio");

  j["clips"][1]["audio"][0] = 2;
  j["clips"][0]["label"] = "JOY";
  ASSERT_TRUE(WriteJsonFileAtomic(mpath, j).ok());
  store = FeatureStore::Open(dir);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().field(), "clips[0].label");

  j["clips"][0]["label"] = "ANG";
  j["format_version"] = 99;
  ASSERT_TRUE(WriteJsonFileAtomic(mpath, j).ok());
  store = FeatureStore::Open(dir);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("the store is version 99"), std::string::npos);
}

TEST(FeatureStoreTest, NotAStore) {
  std::string dir = testutil::FreshDir("");
  auto missing = FeatureStore::Open(dir + "/nothing-here");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto empty = FeatureStore::Open(dir);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no manifest.json"), std::string::npos);
}

TEST(StoreWriterTest, RefusesToOverwriteWithoutForce) {
  std::string dir = testutil::FreshDir("") + "/store";
  ASSERT_TRUE(WriteSmallStore(dir).ok());
  Status again = WriteSmallStore(dir);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(FeatureStore::Open(dir).ok()) << "the existing store is untouched";
}

TEST(StoreWriterTest, ForceReplacesOnlyStoresOrEmptyDirectories) {
  std::string root = testutil::FreshDir("");
  std::string precious = root + "/precious";
  fs::create_directories(precious);
  std::ofstream(precious + "/thesis.tex") << "do not delete";
  StoreLayout layout;
  layout.audio_dim = 2;
  layout.visual_dim = 3;
  layout.partitions = {1};
  auto w = StoreWriter::Create(precious, layout, true);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fs::exists(precious + "/thesis.tex"));
}

TEST(StoreWriterTest, AbandonedWriterLeavesNothing) {
  std::string root = testutil::FreshDir("");
  {
    StoreLayout layout;
    layout.audio_dim = 2;
    layout.visual_dim = 3;
    layout.partitions = {1};
    auto w = StoreWriter::Create(root + "/store", layout, false);
    ASSERT_TRUE(w.ok());
    std::vector<float> audio = {1, 2}, visual = {1, 2, 3};
    ASSERT_TRUE((*w)->AddClip(Clip("1001_DFA_ANG_XX", 1001, 0, {Split::kTrain}), audio.data(), 1, visual.data(), 1).ok());
    EXPECT_TRUE(fs::exists((*w)->temp_dir()));
  }  // destroyed without Finish
  EXPECT_FALSE(fs::exists(root + "/store"));
  EXPECT_TRUE(fs::is_empty(root)) << "the temporary directory is removed";
}

TEST(StoreWriterTest, RejectsNonFiniteAndOutOfRangeValues) {
  std::string root = testutil::FreshDir("");
  StoreLayout layout;
  layout.audio_dim = 2;
  layout.visual_dim = 3;
  layout.partitions = {1};
  auto w = StoreWriter::Create(root + "/store", layout, false);
  ASSERT_TRUE(w.ok());
  std::vector<float> audio = {1, NAN}, visual = {1, 2, 3}, big = {1, 1e6f, 3};
  Status s = (*w)->AddClip(Clip("1001_DFA_ANG_XX", 1001, 0, {Split::kTrain}), audio.data(), 1, visual.data(), 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("clip 1001_DFA_ANG_XX: audio value at frame 0 dimension 1 is nan"), std::string::npos)
      << s.ToString();
  audio[1] = 2;
  s = (*w)->AddClip(Clip("1001_DFA_ANG_XX", 1001, 0, {Split::kTrain}), audio.data(), 1, big.data(), 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("float16 holds finite values up to 65504"), std::string::npos);
  Status empty = (*w)->Finish(false, Json::object());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.message().find("no clips"), std::string::npos);
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {

// A store's label schema (issue 28): any classes, named in its manifest; a
// CREMA-D store's manifest is as it always was (no class_names).
TEST(FeatureStoreTest, AFourClassStoreKeepsItsClassesAndRefusesLabelsOutsideThem) {
  const std::string dir = testutil::FreshDir("") + "/store4";
  StoreLayout layout;
  layout.audio_dim = 2;
  layout.visual_dim = 3;
  layout.partitions = {1};
  layout.classes = {"ang", "hap", "sad", "neu"};
  layout.class_names = {"anger", "happiness", "sadness", "neutral"};
  {
    auto w = StoreWriter::Create(dir, layout, false);
    ASSERT_TRUE(w.ok());
    std::vector<float> audio = {1, 2}, visual = {1, 2, 3};
    for (int k = 0; k < 4; ++k) {
      ClipRecord c = Clip("s" + std::to_string(k), 1 + k, 0, {Split::kTrain});
      c.label = c.intended = k;
      c.soft.assign(4, 0.0f);
      c.soft[static_cast<size_t>(k)] = 1.0f;
      ASSERT_TRUE((*w)->AddClip(c, audio.data(), 1, visual.data(), 1).ok());
    }
    ClipRecord six = Clip("bad", 9, 0, {Split::kTrain});  // six soft labels in a four-class store
    const Status refused = (*w)->AddClip(six, audio.data(), 1, visual.data(), 1);
    EXPECT_FALSE(refused.ok());
    EXPECT_NE(refused.ToString().find("6 soft labels, label 0 and intended class 0 for a store of 4 classes"),
              std::string::npos)
        << refused.ToString();
    ASSERT_TRUE((*w)->Finish(false, Json::object()).ok());
  }
  auto store = FeatureStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->num_classes(), 4);
  EXPECT_EQ((*store)->class_names(), (std::vector<std::string>{"anger", "happiness", "sadness", "neutral"}));
  EXPECT_EQ((*store)->clip(2).label, 2);
  EXPECT_EQ((*store)->clip(2).soft.size(), 4u);
  // `avctl data info` counts the store's own classes.
  const StoreSummary summary = SummarizeManifest((*store)->manifest());
  EXPECT_EQ(summary.per_class, (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_NE(RenderSummaryText(summary, false).find("   ang   hap   sad   neu"), std::string::npos)
      << RenderSummaryText(summary, false);
  EXPECT_EQ(SummaryToJson(summary)["classes"], Json({{"ang", 1}, {"hap", 1}, {"neu", 1}, {"sad", 1}}));
  EXPECT_NE(RenderSummaryText(summary, false).find("classes:     4 (ang anger, hap happiness, sad sadness, neu neutral)"),
            std::string::npos);
  // The manifest says so; a label it does not list is refused, naming the field.
  auto manifest = ReadJsonFile(dir + "/manifest.json");
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ((*manifest)["classes"], Json({"ang", "hap", "sad", "neu"}));
  EXPECT_EQ((*manifest)["class_names"], Json({"anger", "happiness", "sadness", "neutral"}));
  Json bad = *manifest;
  bad["clips"][1]["label"] = "ANG";
  auto parsed = ManifestFromJson(bad, "manifest.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().field(), "clips[1].label");
  EXPECT_NE(parsed.status().ToString().find("unknown class 'ANG'"), std::string::npos) << parsed.status().ToString();
  bad = *manifest;
  bad["classes"] = {"ang", "ang"};
  EXPECT_FALSE(ManifestFromJson(bad, "manifest.json").ok());
  // A CREMA-D store (the small one above) writes no class_names and reads as the six.
  const std::string crema = testutil::FreshDir("") + "/store6";
  ASSERT_TRUE(WriteSmallStore(crema).ok());
  auto six = ReadJsonFile(crema + "/manifest.json");
  ASSERT_TRUE(six.ok());
  EXPECT_FALSE(six->contains("class_names"));
  auto opened = FeatureStore::Open(crema);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ((*opened)->num_classes(), 6);
  EXPECT_EQ((*opened)->class_names().front(), "anger");
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {

// A store written by avctl before stores held other corpora (commit
// fbc31eb: `avctl data synth --labels partition_1.csv --profile tiny
// --audio-llds 2 --visual-dim 3 --clips-per-actor 0`, the labels file next
// to it) opens as CREMA-D's six classes without re-import, and this build
// writes its manifest back exactly; synthesizing it again gives the same
// manifest and the same features (to float rounding: libm may differ
// between machines in the last bit).
TEST(FeatureStoreTest, AStoreMadeBeforeLabelSchemasOpensAsTheSixAndIsWrittenAlike) {
  const std::string old = std::string(AVCTL_SOURCE_DIR) + "/tests/store/data/store-v1-fbc31eb";
  auto store = FeatureStore::Open(old);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const FeatureStore& s = **store;
  EXPECT_EQ(s.num_classes(), 6);
  EXPECT_EQ(s.class_names(), CremaClassNames());
  EXPECT_TRUE(s.has_visual());
  EXPECT_EQ(s.clip(1).group, "1002");
  EXPECT_EQ(s.clip(1).sentence, "IEO");
  EXPECT_EQ(s.clip(1).level, "HI");
  EXPECT_EQ(s.clip(2).label, EmotionIndex(Emotion::kHappiness));
  auto file = ReadJsonFile(old + "/manifest.json");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(ManifestToJson(s.manifest()), *file) << "the manifest this build writes for it";

  Logger log(stderr, LogLevel::kError);
  const std::string again = testutil::FreshDir("again");
  SynthOptions o;
  o.label_files = {old + "/partition_1.csv"};
  o.out_dir = again + "/store";
  o.profile = SynthProfile::kTiny;
  o.audio_llds = 2;
  o.visual_dim = 3;
  o.clips_per_actor = 0;
  ASSERT_TRUE(SynthesizeStore(o, &log).ok());
  auto now = FeatureStore::Open(o.out_dir);
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  Json a = ManifestToJson((*now)->manifest()), b = *file;
  for (Json* j : {&a, &b}) {
    j->erase("created_by");
    for (const char* array : {"audio", "visual", "norm_stats"}) (*j)[array].erase("checksum");
  }
  EXPECT_EQ(a, b);
  ASSERT_EQ((*now)->manifest().audio.frames, s.manifest().audio.frames);
  for (size_t i = 0; i < s.num_clips(); ++i) {
    const ClipRecord& c = s.clip(i);
    for (int64_t k = 0; k < c.audio_frames * s.audio_dim(); ++k) {
      ASSERT_NEAR((*now)->audio(i)[k], s.audio(i)[k], 1e-4 * (1 + std::fabs(s.audio(i)[k]))) << "clip " << i;
    }
    for (int64_t k = 0; k < c.visual_frames * s.visual_dim(); ++k) {
      const float x = HalfToFloat(s.visual(i)[k]);
      ASSERT_NEAR(HalfToFloat((*now)->visual(i)[k]), x, 2e-3 * (1 + std::fabs(x))) << "clip " << i;
    }
  }
}

// data info on a hand-edited manifest: fields of the wrong type read as "?"
// or "none", and labels provenance it cannot read is said to be unreadable,
// naming the field; never an exception.
TEST(StoreInfoTest, AHandEditedManifestIsDescribedNotThrownOn) {
  StoreSummary s;
  s.classes = {"a", "b"};
  s.class_names = {"alpha"};  // fewer names than codes
  s.provenance = {
      {"kind", "import"}, {"audio_dir", 7}, {"visual_dir", ""}, {"labels", {{"format", "generic"}, {"dropped", "O"}}}};
  const std::string text = RenderSummaryText(s, false);
  EXPECT_NE(text.find("imported:    audio from ?, visual from none\n"), std::string::npos) << text;
  EXPECT_NE(text.find("classes:     2 (a alpha, b ?)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("labels:      unreadable: "), std::string::npos) << text;
  EXPECT_NE(text.find("provenance.labels.dropped"), std::string::npos) << text;
}

}  // namespace
}  // namespace avctl
