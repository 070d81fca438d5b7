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
