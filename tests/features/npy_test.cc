#include "features/npy.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/float16.h"

namespace avctl {
namespace {

// An .npy file: magic, version, header length, `dict` padded as numpy pads
// it (spaces and '\n' up to a multiple of 64), then `data`.
std::string Npy(const std::string& dict, const std::string& data, int version = 1) {
  std::string header = dict;
  const size_t preamble = version == 1 ? 10 : 12;
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(version);
  out += '\0';
  const uint32_t len = static_cast<uint32_t>(header.size());
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

std::string Dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape +
         ", }";
}

std::string Fixture(const std::string& file) { return std::string(AVCTL_SOURCE_DIR) + "/tests/features/fixtures/" + file; }

// ---------- reading ----------

TEST(NpyTest, Float32CorderVersion1) {
  auto a = ParseNpy(Npy(Dict("<f4", "(2, 3)"), Bytes<float>({1, 2, 3, 4, 5, 6})), "a.npy");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(a->descr, "<f4");
  EXPECT_FALSE(a->fortran_order);
  EXPECT_EQ(a->version_major, 1);
  EXPECT_EQ(a->data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(NpyTest, AllFloatWidthsAndByteOrders) {
  const std::vector<float> want = {0.5f, -3.0f, 1024.0f};
  const uint16_t h[] = {FloatToHalf(0.5f), FloatToHalf(-3.0f), FloatToHalf(1024.0f)};
  struct Case {
    std::string descr, data;
  } cases[] = {
      {"<f2", Bytes<uint16_t>({h[0], h[1], h[2]})},
      {">f2", Bytes<uint16_t>({h[0], h[1], h[2]}, true)},
      {"<f4", Bytes<float>({0.5f, -3.0f, 1024.0f})},
      {">f4", Bytes<float>({0.5f, -3.0f, 1024.0f}, true)},
      {"<f8", Bytes<double>({0.5, -3.0, 1024.0})},
      {">f8", Bytes<double>({0.5, -3.0, 1024.0}, true)},
      // '=' and '|' are the native order, as numpy takes them (this host is little-endian).
      {"=f4", Bytes<float>({0.5f, -3.0f, 1024.0f})},
      {"|f8", Bytes<double>({0.5, -3.0, 1024.0})},
  };
  for (const Case& c : cases) {
    auto a = ParseNpy(Npy(Dict(c.descr, "(3,)"), c.data), "w.npy");
    ASSERT_TRUE(a.ok()) << c.descr << ": " << a.status().ToString();
    EXPECT_EQ(a->data, want) << c.descr;
    EXPECT_EQ(a->descr, c.descr);
    EXPECT_EQ(a->shape, (std::vector<size_t>{3}));
  }
}

TEST(NpyTest, Versions2And3) {
  for (int v : {2, 3}) {
    auto a = ParseNpy(Npy(Dict("<f4", "(1, 2)"), Bytes<float>({7, 8}), v), "v.npy");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->version_major, v);
    EXPECT_EQ(a->data, (std::vector<float>{7, 8}));
  }
}

TEST(NpyTest, HeaderSpellings) {
  // Keys in any order, double quotes, no trailing comma, extra blanks, tabs.
  for (const std::string& dict : {
           std::string("{'shape': (2, 2), 'fortran_order': False, 'descr': '<f4'}"),
           std::string("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 2)}"),
           std::string("{ 'descr' :'<f4' ,\t'fortran_order':False,'shape':( 2 ,2 , ) , }"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 2L)}"),  // Python 2 numpy
       }) {
    auto a = ParseNpy(Npy(dict, Bytes<float>({1, 2, 3, 4})), "h.npy");
    ASSERT_TRUE(a.ok()) << dict << ": " << a.status().ToString();
    EXPECT_EQ(a->shape, (std::vector<size_t>{2, 2})) << dict;
  }
}

TEST(NpyTest, ShapesOfAnyRank) {
  auto scalar = ParseNpy(Npy(Dict("<f8", "()"), Bytes<double>({2.5})), "s.npy");
  ASSERT_TRUE(scalar.ok()) << scalar.status().ToString();
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->data, std::vector<float>{2.5f});
  auto three = ParseNpy(Npy(Dict("<f4", "(2, 1, 3)"), Bytes<float>({0, 1, 2, 3, 4, 5})), "t.npy");
  ASSERT_TRUE(three.ok()) << three.status().ToString();
  EXPECT_EQ(three->shape, (std::vector<size_t>{2, 1, 3}));
  EXPECT_EQ(three->data, (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

TEST(NpyTest, FortranOrderIsTransposedToC) {
  // [[1, 2, 3], [4, 5, 6]] stored column by column is 1 4 2 5 3 6.
  auto f = ParseNpy(Npy(Dict("<f4", "(2, 3)", true), Bytes<float>({1, 4, 2, 5, 3, 6})), "f.npy");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->fortran_order);
  EXPECT_EQ(f->shape, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(f->data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // 3-D: element (i, j, k) of shape (2, 3, 2) is stored at i + 2*j + 6*k; value 100i + 10j + k.
  std::string data;
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) data += Bytes<float>({static_cast<float>(100 * i + 10 * j + k)});
  auto g = ParseNpy(Npy(Dict("<f4", "(2, 3, 2)", true), data), "g.npy");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  std::vector<float> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k) want.push_back(static_cast<float>(100 * i + 10 * j + k));
  EXPECT_EQ(g->data, want);
  // 1-D Fortran order is the same as C order.
  auto h = ParseNpy(Npy(Dict("<f4", "(3,)", true), Bytes<float>({1, 2, 3})), "h.npy");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->data, (std::vector<float>{1, 2, 3}));
}

TEST(NpyTest, FixtureFiles) {
  auto a = ReadNpyFile(Fixture("frames_f4_v1.npy"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->shape, (std::vector<size_t>{3, 4}));
  for (size_t k = 0; k < 12; ++k) EXPECT_EQ(a->data[k], k * 0.5f - 1) << k;

  auto h = ReadNpyFrames(Fixture("fortran_f2_v2.npy"), 2);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->version_major, 2);
  EXPECT_EQ(h->descr, "<f2");
  EXPECT_EQ(h->data, (std::vector<float>{0.5f, -1.25f, 2.0f, 3.5f, 1024.0f, -0.0625f}));

  auto d = ReadNpyFile(Fixture("bigendian_f8_v3.npy"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->version_major, 3);
  EXPECT_EQ(d->data, (std::vector<float>{1.5f, -2.25f, 0.001f, 123456.75f}));

  auto wrong = ReadNpyFrames(Fixture("frames_f4_v1.npy"), 4096);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().file(), Fixture("frames_f4_v1.npy"));
  EXPECT_EQ(wrong.status().field(), "shape");
  EXPECT_EQ(wrong.status().message(), "expected shape (frames, 4096), found (3, 4)");
}

TEST(NpyTest, MissingFileNamesIt) {
  auto m = ReadNpyFile("/nonexistent/clip.npy");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kIOError);
  EXPECT_EQ(m.status().file(), "/nonexistent/clip.npy");
}

// ---------- the [frames x dims] helper ----------

TEST(NpyTest, CheckFramesByDims) {
  NpyArray a;
  a.shape = {2, 3};
  EXPECT_TRUE(CheckFramesByDims(a, 3, "a.npy").ok());
  EXPECT_TRUE(CheckFramesByDims(a, 0, "a.npy").ok());
  Status s = CheckFramesByDims(a, 4096, "a.npy");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "a.npy: field 'shape': expected shape (frames, 4096), found (2, 3)");
  a.shape = {4096};
  EXPECT_EQ(CheckFramesByDims(a, 4096, "a.npy").message(), "expected shape (frames, 4096), found (4096,)");
  a.shape = {1, 2, 3};
  EXPECT_EQ(CheckFramesByDims(a, 0, "a.npy").message(), "expected shape (frames, dims), found (1, 2, 3)");
  a.shape = {};
  EXPECT_EQ(CheckFramesByDims(a, 3, "a.npy").message(), "expected shape (frames, 3), found ()");
  a.shape = {0, 3};
  EXPECT_NE(CheckFramesByDims(a, 3, "a.npy").message().find("zero frames"), std::string::npos);
}

// ---------- errors ----------

struct BadNpy {
  std::string name;
  std::string bytes;
  std::string field;
  std::string fragment;
};

// Names the case in test output instead of dumping its bytes.
void PrintTo(const BadNpy& c, std::ostream* os) { *os << c.name; }

class NpyErrorTest : public ::testing::TestWithParam<BadNpy> {};

TEST_P(NpyErrorTest, NamesFileAndField) {
  auto r = ParseNpy(GetParam().bytes, "clip.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().file(), "clip.npy");
  EXPECT_EQ(r.status().field(), GetParam().field) << r.status().ToString();
  EXPECT_NE(r.status().message().find(GetParam().fragment), std::string::npos) << r.status().ToString();
}

const std::string kGood = Dict("<f4", "(1, 2)");
const std::string kTwoFloats = Bytes<float>({1, 2});

std::string WithVersion(int major, int minor) {
  std::string b = Npy(kGood, kTwoFloats);
  b[6] = static_cast<char>(major);
  b[7] = static_cast<char>(minor);
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    All, NpyErrorTest,
    ::testing::Values(
        BadNpy{"Empty", "", "magic", "bad magic"},
        BadNpy{"BadMagic", "PK\x03\x04 a zip file, not numpy", "magic", "bad magic"},
        BadNpy{"MagicOnly", "\x93NUMPY", "version", "ends inside the format version"},
        BadNpy{"Version4", WithVersion(4, 0), "version", "unsupported NPY format version 4.0"},
        BadNpy{"Version0", WithVersion(0, 0), "version", "version 0.0"},
        BadNpy{"Minor1", WithVersion(1, 1), "version", "version 1.1"},
        BadNpy{"NoHeaderLength", std::string("\x93NUMPY\x02\x00\x10\x00", 10), "header", "ends inside the header length"},
        BadNpy{"TruncatedHeader", std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 18), "header",
               "truncated header: 255 bytes announced, 8 present"},
        BadNpy{"NotADict", Npy("['descr', '<f4']", ""), "header", "not a dict but a list"},
        BadNpy{"TupleNotADict", Npy("('<f4', False, (1, 2))", kTwoFloats), "header", "not a dict but a tuple"},
        BadNpy{"Unterminated", Npy("{'descr': '<f4, 'fortran_order': False}", kTwoFloats), "header", "malformed"},
        BadNpy{"NoColon", Npy("{'descr' '<f4', 'fortran_order': False, 'shape': (1, 2)}", kTwoFloats), "header",
               "expected ':'"},
        BadNpy{"Garbage", Npy(kGood + " trailing", kTwoFloats), "header", "unexpected text after"},
        BadNpy{"BareWord", Npy("{'descr': f4, 'fortran_order': False, 'shape': (1, 2)}", kTwoFloats), "header",
               "unexpected character 'f'"},
        BadNpy{"BadUtf8V3", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), 'x': '\xff'}", kTwoFloats, 3),
               "header", "not UTF-8"},
        BadNpy{"NoDescr", Npy("{'fortran_order': False, 'shape': (1, 2)}", kTwoFloats), "descr", "no 'descr'"},
        BadNpy{"NoFortran", Npy("{'descr': '<f4', 'shape': (1, 2)}", kTwoFloats), "fortran_order", "no 'fortran_order'"},
        BadNpy{"NoShape", Npy("{'descr': '<f4', 'fortran_order': False}", kTwoFloats), "shape", "no 'shape'"},
        BadNpy{"ExtraKey", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), 'align': True}", kTwoFloats),
               "align", "unexpected key 'align'"},
        BadNpy{"DuplicateKey", Npy("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (1, 2)}", kTwoFloats),
               "descr", "appears twice"},
        BadNpy{"Int32", Npy(Dict("<i4", "(1, 2)"), Bytes<int32_t>({1, 2})), "descr", "unsupported dtype '<i4'"},
        BadNpy{"Object", Npy(Dict("|O", "(1, 2)"), std::string(16, '\0')), "descr", "unsupported dtype '|O'"},
        BadNpy{"LongDouble", Npy(Dict("<f16", "(1,)"), std::string(16, '\0')), "descr", "'<f16'"},
        BadNpy{"Complex", Npy(Dict("<c8", "(1,)"), std::string(8, '\0')), "descr", "'<c8'"},
        BadNpy{"Structured", Npy("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,)}", kTwoFloats), "descr",
               "structured"},
        BadNpy{"DescrNotString", Npy("{'descr': 4, 'fortran_order': False, 'shape': (1, 2)}", kTwoFloats), "descr",
               "is an integer"},
        BadNpy{"FortranString", Npy("{'descr': '<f4', 'fortran_order': 'False', 'shape': (1, 2)}", kTwoFloats),
               "fortran_order", "is a string"},
        BadNpy{"ShapeList", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': [1, 2]}", kTwoFloats), "shape",
               "is a list"},
        BadNpy{"ShapeNotTuple", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", kTwoFloats), "shape",
               "is an integer"},
        BadNpy{"ShapeNegative", Npy(Dict("<f4", "(-1, 2)"), kTwoFloats), "shape", "non-negative integers"},
        BadNpy{"ShapeString", Npy(Dict("<f4", "('1', 2)"), kTwoFloats), "shape", "non-negative integers"},
        BadNpy{"ShapeHuge", Npy(Dict("<f4", "(4294967296, 4294967296)"), kTwoFloats), "shape", "too large"},
        BadNpy{"ZeroFrames", Npy(Dict("<f4", "(0, 4096)"), ""), "shape", "no values (shape (0, 4096))"},
        BadNpy{"ZeroLength1D", Npy(Dict("<f4", "(0,)"), ""), "shape", "no values"},
        BadNpy{"Truncated", Npy(kGood, Bytes<float>({1})), "data", "data holds 4 bytes but shape (1, 2) of '<f4' needs 8 (truncated)"},
        BadNpy{"Trailing", Npy(kGood, Bytes<float>({1, 2, 3})), "data", "needs 8 (trailing bytes)"},
        BadNpy{"NaN", Npy(kGood, Bytes<float>({1, NAN})), "data", "value at row 0 column 1 is nan"},
        BadNpy{"Inf", Npy(Dict("<f8", "(2, 1)"), Bytes<double>({1, -INFINITY})), "data", "value at row 1 column 0 is -inf"},
        BadNpy{"HalfInf", Npy(Dict("<f2", "(3,)"), Bytes<uint16_t>({0x3C00, 0x3C00, 0x7C00})), "data", "value at index 2 is inf"},
        BadNpy{"BeyondFloat32", Npy(Dict(">f8", "(1, 2)"), Bytes<double>({1, 1e300}, true)), "data",
               "row 0 column 1 is 1e+300, beyond float32's range"},
        // Fortran order: stored element 1 of a (2, 2) array is row 1, column 0.
        BadNpy{"NaNFortran", Npy(Dict("<f4", "(2, 2)", true), Bytes<float>({1, NAN, 3, 4})), "data",
               "value at row 1 column 0 is nan"},
        BadNpy{"NaN3D", Npy(Dict("<f4", "(1, 2, 2)"), Bytes<float>({1, 2, 3, NAN})), "data", "index (0, 1, 1)"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace avctl
