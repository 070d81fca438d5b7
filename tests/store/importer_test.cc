#include "store/importer.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/float16.h"
#include "store/feature_store.h"
#include "tests/store/test_util.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

// A float32 .npy (version 1) of [rows x cols] with values base + index.
void WriteNpy(const std::string& path, size_t rows, size_t cols, float base) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  char len[2] = {static_cast<char>(header.size() & 0xFF), static_cast<char>(header.size() >> 8)};
  f.write(len, 2);
  f << header;
  for (size_t i = 0; i < rows * cols; ++i) {
    float v = base + static_cast<float>(i);
    f.write(reinterpret_cast<const char*>(&v), 4);
  }
}

class ImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testutil::FreshDir("");
    audio_ = root_ + "/lld";
    visual_ = root_ + "/vgg";
    fs::create_directories(audio_);
    fs::create_directories(visual_);
    labels_ = root_ + "/partition_2.csv";
    std::ofstream(labels_) << testutil::kLabelHeader
                           << "1001_DFA_ANG_XX.wav,0.9,0.02,0.02,0.02,0.02,0.02,1001,Male,Train\n"
                              "1002_IEO_SAD_HI.wav,0.02,0.9,0.02,0.02,0.02,0.02,1002,Female,Development\n"
                              "1003_TIE_HAP_XX.wav,0.02,0.02,0.02,0.02,0.02,0.9,1003,Male,Test\n";
    // Clip 1: SMILExtract form with deltas; clips 2 and 3: Python form, deltas computed.
    std::ofstream(audio_ + "/1001_DFA_ANG_XX.csv") << "name;frameTime;a_sma;b_sma;a_sma_de;b_sma_de\n"
                                                      "'unknown';0.000;1;2;0.1;0.2\n"
                                                      "'unknown';0.016;3;4;0.3;0.4\n";
    for (const char* id : {"1002_IEO_SAD_HI", "1003_TIE_HAP_XX"}) {
      std::ofstream(audio_ + "/" + id + ".csv") << "file,start,end,a_sma,b_sma\n"
                                                   "x.wav,0 days 00:00:00,0 days 00:00:00.032,1,5\n"
                                                   "x.wav,0 days 00:00:00.016,0 days 00:00:00.048,2,5\n"
                                                   "x.wav,0 days 00:00:00.032,0 days 00:00:00.064,3,5\n";
    }
    WriteNpy(visual_ + "/1001_DFA_ANG_XX.npy", 2, 4, 0.0f);
    WriteNpy(visual_ + "/1002_IEO_SAD_HI.npy", 1, 4, 10.0f);
    WriteNpy(visual_ + "/1003_TIE_HAP_XX.npy", 3, 4, 20.0f);
  }

  ImportOptions Options() {
    ImportOptions o;
    o.label_files = {labels_};
    o.audio_dir = audio_;
    o.visual_dir = visual_;
    o.out_dir = root_ + "/store";
    o.expect_llds = 2;
    o.expect_visual_dim = 4;
    o.threads = 2;
    return o;
  }

  Logger log_{stderr, LogLevel::kError};
  std::string root_, audio_, visual_, labels_;
};

TEST_F(ImporterTest, ImportsBothCsvFormsAndNpy) {
  auto r = ImportStore(Options(), &log_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->clips_imported, 3);
  EXPECT_EQ(r->deltas_computed, 2);
  auto store = FeatureStore::Open(root_ + "/store");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const FeatureStore& s = **store;
  EXPECT_FALSE(s.manifest().synthetic);
  EXPECT_EQ(s.manifest().partitions, (std::vector<int>{2}));
  EXPECT_EQ(s.audio_dim(), 4);
  EXPECT_EQ(s.visual_dim(), 4);
  EXPECT_EQ(s.manifest().provenance["kind"], "import");
  // Clip 1 row 1: a, b, a_de, b_de.
  EXPECT_EQ(s.audio(0)[4], 3.0f);
  EXPECT_EQ(s.audio(0)[7], 0.4f);
  // Clip 2: deltas of a = 1, 2, 3 (W = 2, edges replicated): t=1: (3-1) + 2*(3-1) = 6 / 10.
  EXPECT_FLOAT_EQ(s.audio(1)[4 + 2], 0.6f);
  EXPECT_EQ(s.audio(1)[4 + 3], 0.0f);
  EXPECT_EQ(HalfToFloat(s.visual(2)[5]), 25.0f);
  EXPECT_EQ(s.clip(1).label, EmotionIndex(Emotion::kSadness));
  EXPECT_EQ(s.clip(2).splits[0], Split::kTest);
}

TEST_F(ImporterTest, MissingClipsFailUnlessSkipped) {
  fs::remove(visual_ + "/1003_TIE_HAP_XX.npy");
  auto r = ImportStore(Options(), &log_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("1 clip(s) without visual"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("1003_TIE_HAP_XX"), std::string::npos);
  EXPECT_FALSE(fs::exists(root_ + "/store"));
  ImportOptions o = Options();
  o.skip_missing = true;
  auto skipped = ImportStore(o, &log_);
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(skipped->clips_imported, 2);
  EXPECT_EQ(skipped->missing_visual, (std::vector<std::string>{"1003_TIE_HAP_XX"}));
  EXPECT_NE(RenderImportReport(*skipped).find("1 clip(s) without visual: 1003_TIE_HAP_XX"), std::string::npos);
}

TEST_F(ImporterTest, MalformedFileStopsTheImportAndLeavesNothing) {
  std::ofstream(audio_ + "/1002_IEO_SAD_HI.csv") << "file,start,end,a_sma,b_sma\nx.wav,0,0.032,1,oops\n";
  auto r = ImportStore(Options(), &log_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().file(), audio_ + "/1002_IEO_SAD_HI.csv");
  EXPECT_EQ(r.status().line(), 2);
  EXPECT_EQ(r.status().field(), "b_sma");
  EXPECT_FALSE(fs::exists(root_ + "/store"));
  for (const auto& e : fs::directory_iterator(root_)) {
    EXPECT_EQ(e.path().filename().string().find("store.tmp-"), std::string::npos) << "temporary directory removed";
  }
}

TEST_F(ImporterTest, InconsistentColumnsOrDimsAreNamed) {
  std::ofstream(audio_ + "/1003_TIE_HAP_XX.csv") << "file,start,end,a_sma,c_sma\nx.wav,0,0.032,1,2\n";
  auto r = ImportStore(Options(), &log_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().file(), audio_ + "/1003_TIE_HAP_XX.csv");
  EXPECT_NE(r.status().message().find("column 2 is 'c_sma', expected 'b_sma'"), std::string::npos) << r.status().ToString();

  SetUp();
  WriteNpy(visual_ + "/1002_IEO_SAD_HI.npy", 1, 5, 0.0f);
  r = ImportStore(Options(), &log_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().file(), visual_ + "/1002_IEO_SAD_HI.npy");
  EXPECT_NE(r.status().message().find("expected shape (frames, 4), got (1, 5)"), std::string::npos);

  SetUp();
  ImportOptions o = Options();
  o.expect_llds = 65;
  r = ImportStore(o, &log_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("2 LLD columns, expected 65"), std::string::npos);
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {

// Python-form LLD CSV of `frames` rows of two LLDs.
void WriteLlds(const std::string& path, int frames, float base) {
  std::ofstream f(path);
  f << "file,start,end,a_sma,b_sma\n";
  for (int t = 0; t < frames; ++t) f << "x.wav,0 days,0 days," << base + t << "," << base - t << "\n";
}

TEST_F(ImporterTest, AFourClassStoreFromAGenericCsvWithItsOwnClasses) {
  // IEMOCAP-style: sessions as groups, excitement merged into happiness,
  // frustration dropped; one partition from a split column.
  const std::string labels = root_ + "/iemocap.csv";
  std::ofstream(labels) << "utterance,session,emotion,split\n"
                           "Ses01F_a.wav,Ses01,ang,Train\nSes01F_b.wav,Ses01,hap,Train\nSes01F_c.wav,Ses01,sad,Train\n"
                           "Ses01F_d.wav,Ses01,neu,Train\nSes02F_a.wav,Ses02,exc,Development\n"
                           "Ses02F_b.wav,Ses02,fru,Development\nSes03F_a.wav,Ses03,sad,Test\n";
  for (const char* id : {"Ses01F_a", "Ses01F_b", "Ses01F_c", "Ses01F_d", "Ses02F_a", "Ses03F_a"}) {
    WriteLlds(audio_ + "/" + id + ".csv", 3, 1.0f);
    WriteNpy(visual_ + "/" + id + ".npy", 2, 4, 1.0f);
  }
  ImportOptions o = Options();
  o.label_files = {labels};
  o.labels.format = LabelFormat::kGeneric;
  o.labels.clip_column = "utterance";
  o.labels.group_column = "session";
  o.labels.label_column = "emotion";
  o.labels.merge = {{"exc", "hap"}};
  o.labels.classes = {"ang", "hap", "sad", "neu"};
  o.labels.class_names = {"anger", "happiness", "sadness", "neutral"};
  auto r = ImportStore(o, &log_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->clips_imported, 6) << "the frustrated clip has no class and no files";
  auto store = FeatureStore::Open(root_ + "/store");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const FeatureStore& s = **store;
  EXPECT_EQ(s.num_classes(), 4);
  EXPECT_EQ(s.class_names(), (std::vector<std::string>{"anger", "happiness", "sadness", "neutral"}));
  EXPECT_EQ(s.clip(4).id, "Ses02F_a");
  EXPECT_EQ(s.clip(4).label, 1) << "exc merged into hap";
  EXPECT_EQ(s.clip(4).group, "Ses02");
  EXPECT_EQ(s.clip(4).splits[0], Split::kDevelopment);
  EXPECT_EQ(s.manifest().provenance["labels"]["dropped"]["fru"], 1);
  EXPECT_EQ(s.manifest().partitions, (std::vector<int>{1}));
}

TEST_F(ImporterTest, AnMspPodcastFileWithoutVideoMakesAnAudioOnlyStore) {
  const std::string labels = root_ + "/labels_consensus.csv";
  std::ofstream(labels) << "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
                           "MSP-PODCAST_0001_0001.wav,A,5,2,5,10,Female,Train\n"
                           "MSP-PODCAST_0001_0002.wav,S,2,2,3,10,Female,Train\n"
                           "MSP-PODCAST_0001_0003.wav,X,4,4,4,10,Female,Train\n"
                           "MSP-PODCAST_0002_0001.wav,S,2,2,3,11,Male,Development\n"
                           "MSP-PODCAST_0003_0001.wav,A,5,2,5,12,Male,Test1\n"
                           "MSP-PODCAST_0004_0001.wav,A,5,2,5,13,Male,Test2\n";
  for (const char* id : {"MSP-PODCAST_0001_0001", "MSP-PODCAST_0001_0002", "MSP-PODCAST_0002_0001",
                         "MSP-PODCAST_0003_0001"}) {
    WriteLlds(audio_ + "/" + id + ".csv", 4, 2.0f);
  }
  ImportOptions o = Options();
  o.label_files = {labels};
  o.visual_dir.clear();
  o.labels.format = LabelFormat::kMspPodcast;
  o.labels.classes = {"A", "S"};
  auto r = ImportStore(o, &log_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->clips_imported, 4);
  EXPECT_EQ(r->visual_dim, 0);
  EXPECT_FALSE(fs::exists(root_ + "/store/visual.f16"));
  auto store = FeatureStore::Open(root_ + "/store");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const FeatureStore& s = **store;
  EXPECT_FALSE(s.has_visual());
  EXPECT_EQ(s.visual(0), nullptr);
  EXPECT_EQ(s.class_names(), (std::vector<std::string>{"anger", "sadness"}));
  EXPECT_EQ(s.clip(3).splits[0], Split::kTest);
  EXPECT_EQ(s.manifest().provenance["labels"]["excluded_splits"]["Test2"], 1);
  EXPECT_EQ(s.manifest().provenance["labels"]["dropped"]["X"], 1);
  auto stats = s.norm_stats(1);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_FLOAT_EQ(stats->audio_mean[0], 3.5f) << "2, 3, 4, 5 in both Train clips";
}

}  // namespace
}  // namespace avctl
