#include "features/opensmile_csv.h"

#include <algorithm>
#include <chrono>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "features/deltas.h"

namespace avctl {
namespace {

std::string Fixture(const std::string& file) { return std::string(AVCTL_SOURCE_DIR) + "/tests/features/fixtures/" + file; }

// Column k of an LldTable: 0..L-1 the LLDs, L..2L-1 their deltas.
std::vector<float> Column(const LldTable& t, size_t k) {
  std::vector<float> c;
  for (size_t f = 0; f < t.frames; ++f) c.push_back(t.values[f * 2 * t.num_llds + k]);
  return c;
}

// ---------- both forms ----------

TEST(OpenSmileCsvTest, SmileExtractFixture) {
  auto t = ReadOpenSmileLldCsv(Fixture("smilextract_3lld.csv"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->lld_names, (std::vector<std::string>{"pcm_RMSenergy_sma", "audSpec_Rfilt_sma[0]", "mfcc_sma[1]"}));
  EXPECT_EQ(t->num_llds, 3u);
  EXPECT_EQ(t->frames, 5u);
  EXPECT_FALSE(t->deltas_computed);
  ASSERT_EQ(t->values.size(), 5u * 6);
  EXPECT_EQ(Column(*t, 0), (std::vector<float>{0, 1, 4, 9, 16}));
  EXPECT_EQ(Column(*t, 3), (std::vector<float>{0.9f, 2.2f, 4.0f, 4.2f, 3.1f}));
  EXPECT_EQ(Column(*t, 5), (std::vector<float>{-0.2f, -0.4f, 0.0f, 0.4f, 0.2f}));
  EXPECT_EQ(t->frame_times, (std::vector<double>{0.0, 0.01, 0.02, 0.03, 0.04}));
}

TEST(OpenSmileCsvTest, PythonFixtureComputesTheDeltasSmileExtractWrote) {
  auto given = ReadOpenSmileLldCsv(Fixture("smilextract_3lld.csv"));
  auto computed = ReadOpenSmileLldCsv(Fixture("python_3lld.csv"));
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  ASSERT_TRUE(computed.ok()) << computed.status().ToString();
  EXPECT_TRUE(computed->deltas_computed);
  EXPECT_EQ(computed->lld_names, given->lld_names);
  ASSERT_EQ(computed->frames, given->frames);
  for (size_t i = 0; i < given->values.size(); ++i) {
    EXPECT_FLOAT_EQ(computed->values[i], given->values[i]) << "value " << i;
  }
  for (size_t f = 0; f < 5; ++f) EXPECT_DOUBLE_EQ(computed->frame_times[f], given->frame_times[f]) << f;
}

TEST(OpenSmileCsvTest, DeltasPairedByNameInAnyOrder) {
  const std::string text =
      "name;frameTime;mfcc_sma_de[2];b_sma_de;a_sma;mfcc_sma[2];b_sma;a_sma_de\n"
      "'unknown';0.000000;7;0.5;1;70;2;-0.5\n"
      "'unknown';0.010000;8;0.25;1.5;80;2.5;0.75\n";
  auto t = ParseOpenSmileLldCsv(text, "x.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->lld_names, (std::vector<std::string>{"a_sma", "mfcc_sma[2]", "b_sma"}));
  EXPECT_FALSE(t->deltas_computed);
  EXPECT_EQ(t->values, (std::vector<float>{1, 70, 2, -0.5f, 7, 0.5f,  //
                                           1.5f, 80, 2.5f, 0.75f, 8, 0.25f}));
}

TEST(OpenSmileCsvTest, PythonFormVariants) {
  // "start,end" index (process_signal), CRLF, quoted file names, plain-second
  // times, a trailing blank line and no newline at the very end.
  const std::string text =
      "\xEF\xBB\xBF" "file,start,end,x_sma\r\n"
      "\"a,b.wav\",0 days 00:00:01.500000,0 days 00:00:01.520000,1\r\n"
      "\"say \"\"hi\"\".wav\",1.51,1.53,2\r\n"
      "c.wav,00:00:01.520000,00:00:01.540000,3\r\n"
      "\r\n";
  auto t = ParseOpenSmileLldCsv(text, "p.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->frames, 3u);
  EXPECT_DOUBLE_EQ(t->frame_times[0], 1.5);
  EXPECT_DOUBLE_EQ(t->frame_times[1], 1.51);
  EXPECT_DOUBLE_EQ(t->frame_times[2], 1.52);
  // x = 1 2 3: t=0: (2-1) + 2*(3-1) = 5; t=1: (3-1) + 2*(3-1) = 6; t=2: (3-2) + 2*(3-1) = 5.
  EXPECT_EQ(Column(*t, 1), (std::vector<float>{0.5f, 0.6f, 0.5f}));

  auto s = ParseOpenSmileLldCsv("start,end,x_sma\n1 days 00:00:00,1 days 00:00:00.02,4\n"
                                "-1 days +23:59:59.990000,0 days,5",
                                "s.csv");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->frame_times[0], 86400.0);
  EXPECT_NEAR(s->frame_times[1], -0.01, 1e-9);
  EXPECT_EQ(Column(*s, 0), (std::vector<float>{4, 5}));

  // to_csv(sep=';').
  auto semi = ParseOpenSmileLldCsv("file;start;end;x_sma\nf.wav;0 days 00:00:00.01;0;1.5\n", "semi.csv");
  ASSERT_TRUE(semi.ok()) << semi.status().ToString();
  EXPECT_DOUBLE_EQ(semi->frame_times[0], 0.01);
  EXPECT_EQ(Column(*semi, 0), std::vector<float>{1.5f});
}

TEST(OpenSmileCsvTest, SmileExtractMetaColumns) {
  // cCsvSink's optional frameIndex and frameLength columns.
  auto t = ParseOpenSmileLldCsv("name;frameIndex;frameTime;frameLength;v_sma\r\n'x';0;0.5;0.02;1e-3\r\n'x';1;0.51;0.02;-2\r\n",
                                "m.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->lld_names, std::vector<std::string>{"v_sma"});
  EXPECT_EQ(t->frame_times, (std::vector<double>{0.5, 0.51}));
  EXPECT_EQ(Column(*t, 0), (std::vector<float>{0.001f, -2.0f}));
  // Without the name column (instanceName unset) too.
  auto u = ParseOpenSmileLldCsv("frameTime;v_sma\n0.25;+3\n", "n.csv");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(Column(*u, 0), std::vector<float>{3.0f});
}

TEST(OpenSmileCsvTest, SingleFrame) {
  auto t = ParseOpenSmileLldCsv("file,start,end,x_sma,y_sma\nf.wav,0,0.02,3,-4\n", "one.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->frames, 1u);
  EXPECT_EQ(t->values, (std::vector<float>{3, -4, 0, 0}));
}

// ---------- the 65 ComParE_2016 LLDs ----------

TEST(OpenSmileCsvTest, ComParE2016Names) {
  const auto& names = ComParE2016LldNames();
  EXPECT_EQ(names.size(), 65u);
  EXPECT_EQ(names[0], "F0final_sma");
  EXPECT_EQ(names[5], "logHNR_sma");
  EXPECT_EQ(names[6], "audspec_lengthL1norm_sma");
  EXPECT_EQ(names[10], "audSpec_Rfilt_sma[0]");
  EXPECT_EQ(names[35], "audSpec_Rfilt_sma[25]");
  EXPECT_EQ(names[36], "pcm_fftMag_fband250-650_sma");
  EXPECT_EQ(names[50], "pcm_fftMag_spectralHarmonicity_sma");
  EXPECT_EQ(names[51], "mfcc_sma[1]");
  EXPECT_EQ(names[64], "mfcc_sma[14]");
  std::vector<std::string_view> sorted(names.begin(), names.end());
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "names are unique";
  EXPECT_EQ(DeltaColumnName("mfcc_sma[14]"), "mfcc_sma_de[14]");
  EXPECT_EQ(DeltaColumnName("F0final_sma"), "F0final_sma_de");
}

// A full SMILExtract file: 65 LLDs then their 65 deltas, as ComParE_2016 writes them.
TEST(OpenSmileCsvTest, FullComParE2016SmileExtractFile) {
  const auto& names = ComParE2016LldNames();
  std::string text = "name;frameTime";
  for (auto n : names) text += fmt::format(";{}", n);
  for (auto n : names) text += ";" + DeltaColumnName(n);
  text += "\n";
  for (int f = 0; f < 4; ++f) {
    text += fmt::format("'unknown';{:f}", f * 0.01);
    for (int k = 0; k < 130; ++k) text += fmt::format(";{:e}", k + f * 0.5);
    text += "\n";
  }
  auto t = ParseOpenSmileLldCsv(text, "full.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->num_llds, 65u);
  EXPECT_TRUE(std::equal(t->lld_names.begin(), t->lld_names.end(), names.begin(), names.end()));
  EXPECT_TRUE(CheckComParE2016(*t, "full.csv").ok());
  EXPECT_FLOAT_EQ(t->values[1 * 130 + 65 + 64], 129.5f);  // frame 1, mfcc_sma_de[14]
}

// Python form, no deltas, columns shuffled: the six voicing LLDs get
// openSMILE's segment-mode deltas (over the six in ComParE order), the rest
// the plain regression.
TEST(OpenSmileCsvTest, FullComParE2016PythonFileComputesVoicingDeltasInSegments) {
  std::vector<std::string> cols(ComParE2016LldNames().begin(), ComParE2016LldNames().end());
  std::mt19937 rng(3);
  std::shuffle(cols.begin(), cols.end(), rng);
  const size_t frames = 40, L = 65;
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::vector<float> x(frames * L);
  for (size_t f = 0; f < frames; ++f) {
    for (size_t k = 0; k < L; ++k) {
      float v = std::round(u(rng) * 64) / 64;  // exact in text and in float
      if (cols[k] == "F0final_sma" && (f % 7 == 3 || f % 7 == 4)) v = 0;  // unvoiced stretches
      x[f * L + k] = v;
    }
  }
  std::string text = "file,start,end";
  for (const auto& c : cols) text += "," + c;
  text += "\n";
  for (size_t f = 0; f < frames; ++f) {
    text += fmt::format("a.wav,0 days 00:00:{:09.6f},0 days 00:00:{:09.6f}", f * 0.01, f * 0.01 + 0.02);
    for (size_t k = 0; k < L; ++k) text += fmt::format(",{}", x[f * L + k]);
    text += "\n";
  }
  auto t = ParseOpenSmileLldCsv(text, "py.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE(t->deltas_computed);
  EXPECT_EQ(t->lld_names, cols);
  EXPECT_TRUE(CheckComParE2016(*t, "py.csv").ok());
  EXPECT_DOUBLE_EQ(t->frame_times[39], 0.39);

  std::vector<float> plain(frames * L);
  ComputeDeltas(x.data(), frames, L, L, plain.data(), L, 2);
  constexpr size_t V = kComParE2016NumVoicingLlds;
  std::vector<size_t> pos(V);
  std::vector<float> voiced(frames * V), seg(frames * V);
  for (size_t j = 0; j < V; ++j) {
    pos[j] = static_cast<size_t>(std::find(cols.begin(), cols.end(), ComParE2016LldNames()[j]) - cols.begin());
    for (size_t f = 0; f < frames; ++f) voiced[f * V + j] = x[f * L + pos[j]];
  }
  ComputeSegmentDeltas(voiced.data(), frames, V, V, seg.data(), V, 2);
  for (size_t f = 0; f < frames; ++f) {
    for (size_t k = 0; k < L; ++k) {
      const auto j = std::find(pos.begin(), pos.end(), k);
      const float want = j == pos.end() ? plain[f * L + k] : seg[f * V + static_cast<size_t>(j - pos.begin())];
      ASSERT_EQ(t->values[f * 2 * L + L + k], want) << "frame " << f << " column " << cols[k];
    }
  }
  // The running denominator makes late voicing deltas much smaller than plain ones.
  EXPECT_NE(seg[(frames - 1) * V + 1], plain[(frames - 1) * L + pos[1]]);
}

TEST(OpenSmileCsvTest, CheckComParE2016Failures) {
  LldTable t;
  for (auto n : ComParE2016LldNames()) t.lld_names.emplace_back(n);
  std::reverse(t.lld_names.begin(), t.lld_names.end());
  EXPECT_TRUE(CheckComParE2016(t, "x.csv").ok()) << "any order";
  t.lld_names.back() = "mystery_sma";
  Status s = CheckComParE2016(t, "x.csv");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "x.csv:1: field 'mystery_sma': column 'mystery_sma' is not a ComParE_2016 LLD");
  t.lld_names.pop_back();
  t.lld_names.erase(t.lld_names.begin(), t.lld_names.begin() + 14);  // mfcc_sma[14] .. mfcc_sma[1]
  s = CheckComParE2016(t, "x.csv");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "15 ComParE_2016 LLD(s) missing: 'F0final_sma', 'mfcc_sma[1]', 'mfcc_sma[2]', "
                         "'mfcc_sma[3]', 'mfcc_sma[4]' and 10 more");
}

TEST(OpenSmileCsvTest, ParsesALargeFileQuickly) {
  // 130 columns x 2000 frames (20 s of audio) in well under a second.
  const auto& names = ComParE2016LldNames();
  std::string text = "name;frameTime";
  for (auto n : names) text += fmt::format(";{}", n);
  for (auto n : names) text += ";" + DeltaColumnName(n);
  text += "\n";
  for (int f = 0; f < 2000; ++f) {
    text += fmt::format("'unknown';{:f}", f * 0.01);
    for (int k = 0; k < 130; ++k) text += fmt::format(";{:e}", (k - 60) * 0.37 + f * 1e-3);
    text += "\n";
  }
  const auto start = std::chrono::steady_clock::now();
  auto t = ParseOpenSmileLldCsv(text, "big.csv");
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->frames, 2000u);
  EXPECT_LT(ms, 1000.0);
}

// ---------- errors ----------

struct BadCsv {
  std::string name;
  std::string text;
  int64_t line;
  std::string field;
  std::string fragment;
};

// Names the case in test output instead of dumping its bytes.
void PrintTo(const BadCsv& c, std::ostream* os) { *os << c.name; }

class OpenSmileCsvErrorTest : public ::testing::TestWithParam<BadCsv> {};

TEST_P(OpenSmileCsvErrorTest, NamesFileLineAndColumn) {
  auto r = ParseOpenSmileLldCsv(GetParam().text, "lld.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().file(), "lld.csv");
  EXPECT_EQ(r.status().line(), GetParam().line) << r.status().ToString();
  EXPECT_EQ(r.status().field(), GetParam().field) << r.status().ToString();
  EXPECT_NE(r.status().message().find(GetParam().fragment), std::string::npos) << r.status().ToString();
}

const char kSmileHeader[] = "name;frameTime;a_sma;b_sma\n";

INSTANTIATE_TEST_SUITE_P(
    All, OpenSmileCsvErrorTest,
    ::testing::Values(
        BadCsv{"Empty", "", 0, "", "empty file"},
        BadCsv{"OnlyBlankLines", "\n \r\n\n", 0, "", "empty file"},
        BadCsv{"HeaderOnly", "name;frameTime;a_sma\n", 0, "", "no frames"},
        BadCsv{"HeaderOnlyPython", "file,start,end,a_sma\r\n\r\n", 0, "", "no frames"},
        BadCsv{"UnknownHeader", "time,a,b\n0,1,2\n", 1, "", "unknown header form"},
        BadCsv{"PythonWithoutIndex", "a_sma,b_sma\n1,2\n", 1, "", "unknown header form"},
        BadCsv{"SmileWithoutTime", "name;a_sma\n'x';1\n", 1, "", "unknown header form"},
        BadCsv{"NoLldColumns", "name;frameTime\n'x';0\n", 1, "", "no LLD columns"},
        BadCsv{"EmptyColumnName", "file,start,end,a_sma,,b_sma\nf,0,1,1,2,3\n", 1, "", "column 5 has no name"},
        BadCsv{"UnterminatedQuoteHeader", "file,start,end,\"a_sma\n", 1, "", "unterminated quoted column name"},
        BadCsv{"TooFewCells", std::string(kSmileHeader) + "'u';0.0;1;2\n'u';0.01;1\n", 3, "", "expected 4 cells, found 3"},
        BadCsv{"TooManyCells", std::string(kSmileHeader) + "'u';0.0;1;2;3\n", 2, "", "expected 4 cells, found 5"},
        BadCsv{"BlankLineInside", std::string(kSmileHeader) + "'u';0.0;1;2\n\n'u';0.02;1;2\n", 3, "", "empty line"},
        BadCsv{"UnterminatedQuoteRow", "file,start,end,a_sma\n\"f.wav,0,1,2\n", 2, "", "unterminated quoted cell"},
        BadCsv{"NonNumeric", std::string(kSmileHeader) + "'u';0.0;1;abc\n", 2, "b_sma", "'abc' is not a number"},
        BadCsv{"EmptyCell", std::string(kSmileHeader) + "'u';0.0;;2\n", 2, "a_sma", "'' is not a number"},
        BadCsv{"TrailingJunk", std::string(kSmileHeader) + "'u';0.0;1.5x;2\n", 2, "a_sma", "'1.5x' is not a number"},
        BadCsv{"NaN", std::string(kSmileHeader) + "'u';0.0;nan;2\n", 2, "a_sma", "value 'nan' is not finite"},
        BadCsv{"MinusNaN", std::string(kSmileHeader) + "'u';0.0;1;-nan\n", 2, "b_sma", "not finite"},
        BadCsv{"Inf", "file,start,end,a_sma\nf,0,1,1\nf,1,2,inf\n", 3, "a_sma", "value 'inf' is not finite"},
        BadCsv{"OutOfRange", std::string(kSmileHeader) + "'u';0.0;1e400;2\n", 2, "a_sma", "'1e400' is out of range"},
        BadCsv{"BeyondFloat", std::string(kSmileHeader) + "'u';0.0;1;-1e39\n", 2, "b_sma", "beyond float32's range"},
        BadCsv{"BadDeltaValue", "name;frameTime;a_sma;a_sma_de\n'u';0;1;x\n", 2, "a_sma_de", "'x' is not a number"},
        BadCsv{"BadFrameTime", std::string(kSmileHeader) + "'u';zero;1;2\n", 2, "frameTime", "'zero' is not a time"},
        BadCsv{"BadStart", "file,start,end,a_sma\nf,yesterday,0,1\n", 2, "start", "'yesterday' is not a time"},
        BadCsv{"BadClock", "file,start,end,a_sma\nf,0 days 00:xx:00,0,1\n", 2, "start", "not a time"},
        BadCsv{"NaNTime", "start,end,a_sma\nnan,0,1\n", 2, "start", "not a time"},
        BadCsv{"DeltaWithoutBase", "name;frameTime;a_sma;a_sma_de;b_sma_de\n'u';0;1;2;3\n", 1, "b_sma_de",
               "delta column 'b_sma_de' has no base column 'b_sma'"},
        BadCsv{"ArrayDeltaWithoutBase", "name;frameTime;a_sma;a_sma_de;mfcc_sma_de[3]\n'u';0;1;2;3\n", 1,
               "mfcc_sma_de[3]", "has no base column 'mfcc_sma[3]'"},
        BadCsv{"BaseWithoutDelta", "name;frameTime;a_sma;mfcc_sma[1];a_sma_de\n'u';0;1;2;3\n", 1, "mfcc_sma[1]",
               "column 'mfcc_sma[1]' has no delta column 'mfcc_sma_de[1]' while other columns do"},
        BadCsv{"Duplicate", "name;frameTime;a_sma;b_sma;a_sma\n'u';0;1;2;3\n", 1, "a_sma", "duplicate column 'a_sma'"},
        BadCsv{"DuplicateQuoted", "file,start,end,a_sma,\"a_sma\"\nf,0,1,2,3\n", 1, "a_sma", "duplicate column"}),
    [](const auto& info) { return info.param.name; });

TEST(OpenSmileCsvTest, MissingFileNamesIt) {
  auto r = ReadOpenSmileLldCsv("/nonexistent/1001_DFA_ANG_XX.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_EQ(r.status().file(), "/nonexistent/1001_DFA_ANG_XX.csv");
}

}  // namespace
}  // namespace avctl
