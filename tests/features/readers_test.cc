#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "common/float16.h"
#include "features/deltas.h"
#include "features/npy.h"
#include "features/opensmile_csv.h"

namespace avctl {
namespace {

// ---------- deltas ----------

TEST(DeltasTest, RegressionWithReplicatedEdges) {
  // x = 0, 1, 4, 9, 16 (one dim). W = 2, denominator 2 * (1 + 4) = 10.
  // t=0: 1*(x1 - x0) + 2*(x2 - x0) = 1 + 8 = 9        -> 0.9   (x-1, x-2 replicate x0)
  // t=1: 1*(x2 - x0) + 2*(x3 - x0) = 4 + 18 = 22      -> 2.2   (x-1 = x0)
  // t=2: 1*(x3 - x1) + 2*(x4 - x0) = 8 + 32 = 40      -> 4.0
  // t=3: 1*(x4 - x2) + 2*(x4 - x1) = 12 + 30 = 42     -> 4.2   (x5 = x4)
  // t=4: 1*(x4 - x3) + 2*(x4 - x2) = 7 + 24 = 31      -> 3.1
  float x[] = {0, 1, 4, 9, 16};
  float d[5];
  ComputeDeltas(x, 5, 1, 1, d, 1, 2);
  const float expected[] = {0.9f, 2.2f, 4.0f, 4.2f, 3.1f};
  for (int t = 0; t < 5; ++t) EXPECT_FLOAT_EQ(d[t], expected[t]) << t;
}

TEST(DeltasTest, ShortInputsAndStrides) {
  float one[] = {3};
  float d1[1] = {99};
  ComputeDeltas(one, 1, 1, 1, d1, 1, 2);
  EXPECT_EQ(d1[0], 0.0f);
  // Two frames, two dims interleaved with deltas: [x0 x1 d0 d1] per row.
  float rows[] = {1, 10, 0, 0, 3, 30, 0, 0};
  ComputeDeltas(rows, 2, 2, 4, rows + 2, 4, 2);
  // t=0: 1*(3-1) + 2*(3-1) = 6 -> 0.6 ; t=1: 1*(3-1) + 2*(3-1) = 6 -> 0.6
  EXPECT_FLOAT_EQ(rows[2], 0.6f);
  EXPECT_FLOAT_EQ(rows[3], 6.0f);
  EXPECT_FLOAT_EQ(rows[6], 0.6f);
  EXPECT_EQ(rows[4], 3.0f) << "inputs untouched";
}

// ---------- float16 ----------

TEST(Float16Test, KnownValues) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(65519.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7C00);  // rounds to infinity
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)), 0x0000);  // tie to even
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // tie to even (down)
  EXPECT_EQ(FloatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie to even (up)
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(NAN))));
  EXPECT_EQ(HalfToFloat(0x7C00), INFINITY);
}

TEST(Float16Test, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(f)))) << h;
      continue;
    }
    ASSERT_EQ(FloatToHalf(f), h) << std::hex << h;
  }
  std::vector<float> in = {0.5f, -1.25f, 1000.0f}, back(3);
  std::vector<uint16_t> halves(3);
  FloatsToHalves(in.data(), halves.data(), 3);
  HalvesToFloats(halves.data(), back.data(), 3);
  EXPECT_EQ(in, back);
}

// ---------- NPY ----------

std::string Npy(const std::string& dict, const std::string& data, int version = 1) {
  std::string header = dict;
  size_t preamble = version == 1 ? 10 : 12;
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(version);
  out += '\0';
  uint32_t len = static_cast<uint32_t>(header.size());
  out += static_cast<char>(len & 0xFF);
  out += static_cast<char>((len >> 8) & 0xFF);
  if (version > 1) {
    out += static_cast<char>((len >> 16) & 0xFF);
    out += static_cast<char>((len >> 24) & 0xFF);
  }
  return out + header + data;
}

template <typename T>
std::string Bytes(std::initializer_list<T> values, bool big_endian = false) {
  std::string out;
  for (T v : values) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    if (big_endian) std::reverse(b, b + sizeof(T));
    out.append(b, sizeof(T));
  }
  return out;
}

TEST(NpyTest, ReadsFloat32CorderV1) {
  auto a = ParseNpy(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Bytes<float>({1, 2, 3, 4, 5, 6})), "a.npy");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a->data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(CheckFramesByDims(*a, 3, "a.npy").ok());
  Status wrong = CheckFramesByDims(*a, 4096, "a.npy");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("expected shape (frames, 4096), got (2, 3)"), std::string::npos);
}

TEST(NpyTest, Float16Float64BigEndianFortranAndV2V3) {
  auto h = ParseNpy(Npy("{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2), }",
                        Bytes<uint16_t>({FloatToHalf(0.5f), FloatToHalf(-3.0f)})), "h.npy");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->data, (std::vector<float>{0.5f, -3.0f}));
  auto d = ParseNpy(Npy("{'shape': (2,), 'descr': '>f8', 'fortran_order': False}", Bytes<double>({1.5, -2.0}, true), 2), "d.npy");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->data, (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(d->version_major, 2);
  // Fortran order: column-major data of [[1, 2, 3], [4, 5, 6]] is 1 4 2 5 3 6.
  auto f = ParseNpy(Npy("{\"descr\": \"<f4\", \"fortran_order\": True, \"shape\": (2, 3)}", Bytes<float>({1, 4, 2, 5, 3, 6}), 3), "f.npy");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

struct BadNpy {
  std::string name;
  std::string bytes;
  std::string field;
  std::string fragment;
};

class NpyErrorTest : public ::testing::TestWithParam<BadNpy> {};

TEST_P(NpyErrorTest, NamesFileAndField) {
  auto r = ParseNpy(GetParam().bytes, "clip.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().file(), "clip.npy");
  EXPECT_EQ(r.status().field(), GetParam().field) << r.status().ToString();
  EXPECT_NE(r.status().message().find(GetParam().fragment), std::string::npos) << r.status().ToString();
}

const std::string kGoodDict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }";

INSTANTIATE_TEST_SUITE_P(
    All, NpyErrorTest,
    ::testing::Values(
        BadNpy{"BadMagic", "PK\x03\x04 not numpy at all", "magic", "bad magic"},
        BadNpy{"Version", std::string("\x93NUMPY\x04\x00\x10\x00", 10) + std::string(16, ' '), "version", "version 4.0"},
        BadNpy{"HeaderPastEnd", std::string("\x93NUMPY\x01\x00\xff\x00{", 11), "header", "runs past the end"},
        BadNpy{"NotADict", Npy("['descr', '<f4']", ""), "header", "not a dict"},
        BadNpy{"NoDescr", Npy("{'fortran_order': False, 'shape': (1, 2)}", Bytes<float>({1, 2})), "descr", "no 'descr'"},
        BadNpy{"NoShape", Npy("{'descr': '<f4', 'fortran_order': False}", Bytes<float>({1, 2})), "shape", "no 'shape'"},
        BadNpy{"IntDtype", Npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2)}", Bytes<int32_t>({1, 2})), "descr", "'<i4'"},
        BadNpy{"ObjectDtype", Npy("{'descr': '|O', 'fortran_order': False, 'shape': (1, 2)}", ""), "descr", "'|O'"},
        BadNpy{"Truncated", Npy(kGoodDict, Bytes<float>({1})), "shape", "truncated"},
        BadNpy{"Trailing", Npy(kGoodDict, Bytes<float>({1, 2, 3})), "shape", "trailing bytes"},
        BadNpy{"NaN", Npy(kGoodDict, Bytes<float>({1, NAN})), "data", "row 0 column 1 is nan"},
        BadNpy{"Inf", Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1)}", Bytes<double>({1, 1e300})), "data", "row 1 column 0"},
        BadNpy{"Fortran3D", Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1, 1)}", Bytes<float>({1})), "fortran_order", "more than 2 dimensions"}),
    [](const auto& info) { return info.param.name; });

TEST(NpyTest, ZeroFramesAndMissingFile) {
  auto z = ParseNpy(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4096)}", ""), "z.npy");
  ASSERT_TRUE(z.ok());
  Status s = CheckFramesByDims(*z, 4096, "z.npy");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("zero frames"), std::string::npos);
  auto m = ReadNpyFile("/nonexistent/clip.npy");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().file(), "/nonexistent/clip.npy");
}

// ---------- openSMILE CSV ----------

TEST(OpenSmileCsvTest, SmileExtractFormWithDeltasInAnyOrder) {
  std::string text =
      "name;frameTime;b_sma_de;a_sma;b_sma;a_sma_de\r\n"
      "'unknown';0.000000;0.5;1.0;2.0;-0.5\r\n"
      "'unknown';0.016000;0.25;1.5;2.5;0.75\r\n";
  auto t = ParseOpenSmileLldCsv(text, "x.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->lld_names, (std::vector<std::string>{"a_sma", "b_sma"}));
  EXPECT_EQ(t->frames, 2u);
  EXPECT_FALSE(t->deltas_computed);
  EXPECT_EQ(t->values, (std::vector<float>{1.0f, 2.0f, -0.5f, 0.5f, 1.5f, 2.5f, 0.75f, 0.25f}));
  EXPECT_DOUBLE_EQ(t->frame_times[1], 0.016);
}

TEST(OpenSmileCsvTest, PythonFormComputesDeltas) {
  std::string text =
      "file,start,end,x_sma,y_sma\n"
      "a.wav,0 days 00:00:00,0 days 00:00:00.032000,0,10\n"
      "a.wav,0 days 00:00:00.016000,0 days 00:00:00.048000,1,10\n"
      "a.wav,0 days 00:00:00.032000,0 days 00:00:00.064000,4,10\n"
      "a.wav,0 days 00:00:00.048000,0 days 00:00:00.080000,9,10\n"
      "a.wav,0 days 00:00:00.064000,0 days 00:00:00.096000,16,10\n\n";
  auto t = ParseOpenSmileLldCsv(text, "p.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->deltas_computed);
  EXPECT_EQ(t->num_llds, 2u);
  ASSERT_EQ(t->frames, 5u);
  // Same numbers as DeltasTest.RegressionWithReplicatedEdges.
  const float expected[] = {0.9f, 2.2f, 4.0f, 4.2f, 3.1f};
  for (size_t f = 0; f < 5; ++f) {
    EXPECT_FLOAT_EQ(t->values[f * 4 + 2], expected[f]);
    EXPECT_FLOAT_EQ(t->values[f * 4 + 3], 0.0f);
  }
  EXPECT_DOUBLE_EQ(t->frame_times[4], 0.064);
}

struct BadCsv {
  std::string name;
  std::string text;
  int64_t line;
  std::string field;
  std::string fragment;
};

class OpenSmileCsvErrorTest : public ::testing::TestWithParam<BadCsv> {};

TEST_P(OpenSmileCsvErrorTest, NamesFileLineAndColumn) {
  auto r = ParseOpenSmileLldCsv(GetParam().text, "lld.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().file(), "lld.csv");
  EXPECT_EQ(r.status().line(), GetParam().line) << r.status().ToString();
  EXPECT_EQ(r.status().field(), GetParam().field) << r.status().ToString();
  EXPECT_NE(r.status().message().find(GetParam().fragment), std::string::npos) << r.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(
    All, OpenSmileCsvErrorTest,
    ::testing::Values(
        BadCsv{"Empty", "", 0, "", "empty file"},
        BadCsv{"HeaderOnly", "name;frameTime;a_sma\n", 0, "", "no frames"},
        BadCsv{"UnknownHeader", "time,a,b\n0,1,2\n", 1, "", "unknown header"},
        BadCsv{"ColumnCount", "name;frameTime;a_sma\n'u';0.0;1\n'u';0.016\n", 3, "", "expected 3 columns, got 2"},
        BadCsv{"NonNumeric", "name;frameTime;a_sma;b_sma\n'u';0.0;1;abc\n", 2, "b_sma", "'abc' is not a number"},
        BadCsv{"NaN", "name;frameTime;a_sma\n'u';0.0;nan\n", 2, "a_sma", "not finite"},
        BadCsv{"BadTime", "file,start,end,a\nf,yesterday,0,1\n", 2, "start", "'yesterday' is not a time"},
        BadCsv{"DeltaWithoutBase", "name;frameTime;a_sma;a_sma_de;b_sma_de\n'u';0;1;2;3\n", 1, "b_sma_de", "no base column"},
        BadCsv{"BaseWithoutDelta", "name;frameTime;a_sma;b_sma;a_sma_de\n'u';0;1;2;3\n", 1, "b_sma", "no delta column"},
        BadCsv{"Duplicate", "name;frameTime;a_sma;a_sma\n'u';0;1;2\n", 1, "a_sma", "duplicate column"}),
    [](const auto& info) { return info.param.name; });

TEST(OpenSmileCsvTest, ComParE2016NameCheck) {
  EXPECT_EQ(ComParE2016LldNames().size(), 65u);
  LldTable t;
  for (auto n : ComParE2016LldNames()) t.lld_names.emplace_back(n);
  std::reverse(t.lld_names.begin(), t.lld_names.end());
  EXPECT_TRUE(CheckComParE2016(t, "x.csv").ok());
  t.lld_names.back() = "mystery_sma";
  EXPECT_FALSE(CheckComParE2016(t, "x.csv").ok());
}

}  // namespace
}  // namespace avctl
