#include "worker/checkpoint_file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/file_util.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

Checkpoint Sample(int epoch) {
  Checkpoint c;
  c.header = {{"job_key", "demo/ladder_av/-/seed=1/partition=1"}, {"attempt_id", 7}, {"epoch", epoch}};
  c.sections["model"] = std::string("\0\1\2binary", 9);
  c.sections["optimizer"] = std::string(100000, 'x');
  c.sections["empty"] = "";
  return c;
}

class CheckpointFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testutil::FreshTestDir("checkpoint"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(int epoch, int batches = 0) { return (dir_ / CheckpointFileName({epoch, batches})).string(); }
  fs::path dir_;
};

TEST_F(CheckpointFileTest, RoundTripsHeaderAndSectionsByteForByte) {
  ASSERT_TRUE(WriteCheckpoint(Path(3), Sample(3)).ok());
  auto back = ReadCheckpoint(Path(3));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->header, Sample(3).header);
  EXPECT_EQ(back->sections, Sample(3).sections);
}

TEST_F(CheckpointFileTest, NamesStandForPositionsAndOrderWithinAnEpoch) {
  EXPECT_EQ(CheckpointFileName({12, 0}), "epoch-0012.ckpt");
  EXPECT_EQ(CheckpointFileName({3, 17}), "epoch-0003-batch-0017.ckpt");
  auto mid = ParseCheckpointFileName("epoch-0003-batch-0017.ckpt");
  ASSERT_TRUE(mid.has_value());
  EXPECT_EQ(mid->epochs, 3);
  EXPECT_EQ(mid->batches, 17);
  EXPECT_FALSE(ParseCheckpointFileName("epoch-3.ckpt").has_value());  // not a name we write
  EXPECT_FALSE(ParseCheckpointFileName("epoch-0003.ckpt.tmp").has_value());
  EXPECT_TRUE((CheckpointPosition{3, 0}) < (CheckpointPosition{3, 17}));
  EXPECT_TRUE((CheckpointPosition{3, 17}) < (CheckpointPosition{4, 0}));
}

TEST_F(CheckpointFileTest, PruningKeepsTheLatestFiles) {
  for (auto [e, b] : std::vector<std::pair<int, int>>{{1, 0}, {2, 0}, {2, 5}, {3, 0}}) {
    ASSERT_TRUE(WriteCheckpoint(Path(e, b), Sample(e)).ok());
  }
  ASSERT_TRUE(PruneCheckpoints(dir_.string(), 2).ok());
  EXPECT_FALSE(fs::exists(Path(1)));
  EXPECT_FALSE(fs::exists(Path(2)));
  EXPECT_TRUE(fs::exists(Path(2, 5)));
  EXPECT_TRUE(fs::exists(Path(3)));
}

TEST_F(CheckpointFileTest, TruncatedFlippedAndForeignFilesAreRefusedNamingTheFile) {
  ASSERT_TRUE(WriteCheckpoint(Path(1), Sample(1)).ok());
  const std::string good = *ReadFileToString(Path(1));
  struct Case {
    const char* what;
    std::string bytes;
    const char* fragment;
  };
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  const std::vector<Case> cases = {
      {"truncated", good.substr(0, good.size() - 100), "truncated"},
      {"one bit flipped", flipped, "checksum mismatch"},
      {"empty", "", "not a checkpoint"},
      {"another file", "{\"json\": true}", "not a checkpoint"},
  };
  for (const Case& c : cases) {
    const std::string path = (dir_ / "bad.ckpt").string();
    ASSERT_TRUE(WriteFileAtomic(path, c.bytes).ok());
    auto r = ReadCheckpoint(path);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << c.what;
    EXPECT_NE(r.status().ToString().find(c.fragment), std::string::npos) << c.what << ": " << r.status().ToString();
    EXPECT_NE(r.status().ToString().find("bad.ckpt"), std::string::npos) << r.status().ToString();
  }
}

TEST_F(CheckpointFileTest, TheLatestValidCheckpointWinsAndBadOnesAreSkippedWithTheirReason) {
  std::vector<std::string> skipped;
  EXPECT_FALSE(LatestCheckpoint((dir_ / "missing").string(), &skipped).has_value());
  for (int e : {1, 2, 3}) ASSERT_TRUE(WriteCheckpoint(Path(e), Sample(e)).ok());
  std::string three = *ReadFileToString(Path(3));
  ASSERT_TRUE(WriteFileAtomic(Path(3), three.substr(0, three.size() / 2)).ok());  // cut by a crash
  ASSERT_TRUE(WriteFileAtomic((dir_ / "notes.txt").string(), "not a checkpoint").ok());
  auto found = LatestCheckpoint(dir_.string(), &skipped);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->at.epochs, 2);
  EXPECT_EQ(found->checkpoint.header["epoch"], 2);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("epoch-0003.ckpt"), std::string::npos) << skipped[0];
}

}  // namespace
}  // namespace avctl
