#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <filesystem>

#include <gtest/gtest.h>

#include "common/checksum.h"
#include "common/file_util.h"
#include "common/random.h"

namespace avctl {
namespace {

TEST(ChecksumTest, ChunkingDoesNotMatter) {
  std::string data(100000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
  Checksummer a;
  a.Update(data.data(), data.size());
  Checksummer b;
  for (size_t i = 0; i < data.size(); i += 777) b.Update(data.data() + i, std::min<size_t>(777, data.size() - i));
  EXPECT_EQ(a.Digest(), b.Digest());
  EXPECT_EQ(a.Digest(), ChecksumBytes(data.data(), data.size()));
  EXPECT_EQ(a.Digest().rfind("xxh3-64:", 0), 0u);
  EXPECT_EQ(a.Digest().size(), 8u + 16u);
  data[500] ^= 1;
  EXPECT_NE(a.Digest(), ChecksumBytes(data.data(), data.size()));
}

TEST(ChecksumTest, KnownValueOfEmptyInput) {
  // XXH3_64bits("") with the default secret is 0x2D06800538D394C2 (xxHash reference).
  EXPECT_EQ(ChecksumBytes("", 0), "xxh3-64:2d06800538d394c2");
}

TEST(ChecksumTest, FileMatchesBytesAndMissingFileFails) {
  std::string dir = testing::TempDir();
  std::string path = dir + "/checksum_test.bin";
  ASSERT_TRUE(WriteFileAtomic(path, "hello world").ok());
  auto sum = ChecksumFile(path);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(*sum, ChecksumBytes("hello world", 11));
  auto missing = ChecksumFile(dir + "/does-not-exist");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().file(), dir + "/does-not-exist");
}

TEST(RandomTest, SameSeedSameStream) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= (x != c.Next());
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, DistributionsHaveTheRightMoments) {
  Rng r(7);
  const int n = 200000;
  double su = 0, sg = 0, sg2 = 0, sf = 0, sf2 = 0;
  for (int i = 0; i < n; ++i) {
    double u = r.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    double g = r.Gaussian();
    sg += g;
    sg2 += g * g;
    double f = r.FastGaussian();
    sf += f;
    sf2 += f * f;
  }
  EXPECT_NEAR(su / n, 0.5, 0.005);
  EXPECT_NEAR(sg / n, 0.0, 0.01);
  EXPECT_NEAR(sg2 / n, 1.0, 0.02);
  EXPECT_NEAR(sf / n, 0.0, 0.01);
  EXPECT_NEAR(sf2 / n, 1.0, 0.02);
}

TEST(RandomTest, BelowStaysInRange) {
  Rng r(1);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = r.Below(6);
    ASSERT_LT(x, 6u);
    seen.insert(x);
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST(RandomTest, DerivedSeedsDiffer) {
  EXPECT_NE(DeriveSeed(1, "clip:a"), DeriveSeed(1, "clip:b"));
  EXPECT_NE(DeriveSeed(1, "actor", 1), DeriveSeed(1, "actor", 2));
  EXPECT_NE(DeriveSeed(1, "x"), DeriveSeed(2, "x"));
  EXPECT_EQ(DeriveSeed(5, "x", 3), DeriveSeed(5, "x", 3));
}

TEST(FileUtilTest, AtomicWriteReplacesAndLeavesNoTemporaries) {
  std::string dir = testing::TempDir() + "/file_util_test";
  std::filesystem::create_directories(dir);
  std::string path = dir + "/f.txt";
  ASSERT_TRUE(WriteFileAtomic(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "two").ok());
  EXPECT_EQ(*ReadFileToString(path), "two");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  auto bad = WriteFileAtomic(dir + "/missing/sub/f.txt", "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), StatusCode::kIOError);
}

}  // namespace
}  // namespace avctl
