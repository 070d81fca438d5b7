#include "common/float16.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace avctl {
namespace {

uint32_t Bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  return x;
}

float FromBits(uint32_t x) {
  float f;
  std::memcpy(&f, &x, sizeof f);
  return f;
}

bool IsHalfNaN(uint16_t h) { return (h & 0x7C00u) == 0x7C00u && (h & 0x03FFu) != 0; }

// Reference decoding straight from the definition of binary16.
double HalfValue(uint16_t h) {
  const int exp = (h >> 10) & 0x1F;
  const int mant = h & 0x3FF;
  double v;
  if (exp == 0x1F) {
    v = mant == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else if (exp == 0) {
    v = std::ldexp(mant, -24);  // subnormal: mant * 2^-14 * 2^-10
  } else {
    v = std::ldexp(1024 + mant, exp - 25);  // (1 + mant/1024) * 2^(exp-15)
  }
  return (h & 0x8000u) ? -v : v;
}

// Reference rounding of a non-NaN float, by search: the positive finite
// halves 0x0000..0x7BFF increase with their bit patterns; 0x7C00 stands for
// 2^16, where rounding with an unbounded exponent would land (IEEE 754 then
// overflows to infinity). Compares 2|x| with lo + hi, which is exact in
// double (2|x| is a scaled float, lo + hi has at most 12 significant bits).
uint16_t ReferenceFloatToHalf(float f) {
  const uint16_t sign = std::signbit(f) ? 0x8000u : 0u;
  const double a = std::fabs(static_cast<double>(f));
  auto value = [](uint32_t h) { return h == 0x7C00u ? 65536.0 : HalfValue(static_cast<uint16_t>(h)); };
  if (a >= 65536.0) return sign | 0x7C00u;
  uint32_t lo = 0, hi = 0x7C00u;  // invariant: value(lo) <= a < value(hi)
  while (hi - lo > 1) {
    const uint32_t mid = (lo + hi) / 2;
    (value(mid) <= a ? lo : hi) = mid;
  }
  const double twice = 2 * a, sum = value(lo) + value(hi);
  uint32_t h;
  if (twice < sum) {
    h = lo;
  } else if (twice > sum) {
    h = hi;
  } else {
    h = (lo & 1u) == 0 ? lo : hi;  // tie: the even pattern
  }
  return static_cast<uint16_t>(sign | h);
}

TEST(Float16Test, KnownValues) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalf(0.5f), 0x3800);
  EXPECT_EQ(FloatToHalf(0.1f), 0x2E66);  // 0.0999755859375, nearest half to 0.1
  EXPECT_EQ(FloatToHalf(0.0f), 0x0000);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7BFF);  // largest finite half
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1023.0f, -24)), 0x03FF);  // largest subnormal

  EXPECT_EQ(HalfToFloat(0x3C00), 1.0f);
  EXPECT_EQ(HalfToFloat(0x7BFF), 65504.0f);
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(HalfToFloat(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(HalfToFloat(0xC000), -2.0f);
  EXPECT_EQ(Bits(HalfToFloat(0x8000)), 0x80000000u) << "negative zero keeps its sign";
  EXPECT_EQ(HalfToFloat(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(HalfToFloat(0xFC00), -std::numeric_limits<float>::infinity());
}

TEST(Float16Test, RoundsTiesToEven) {
  const float ulp = std::ldexp(1.0f, -10);  // spacing of halves in [1, 2)
  // 1 + 2^-11 is halfway between 0x3C00 (1, even) and 0x3C01: down to even.
  EXPECT_EQ(FloatToHalf(1.0f + ulp / 2), 0x3C00);
  // 1 + 3*2^-11 is halfway between 0x3C01 (odd) and 0x3C02 (even): up.
  EXPECT_EQ(FloatToHalf(1.0f + 3 * ulp / 2), 0x3C02);
  // Just off the tie goes to the nearer one.
  EXPECT_EQ(FloatToHalf(std::nextafter(1.0f + ulp / 2, 2.0f)), 0x3C01);
  EXPECT_EQ(FloatToHalf(std::nextafter(1.0f + 3 * ulp / 2, 0.0f)), 0x3C01);
  // Carry out of the mantissa: 2 - 2^-11 is halfway between 0x3BFF (odd) and 2.0 = 0x4000.
  EXPECT_EQ(FloatToHalf(2.0f - ulp / 2), 0x4000);
  EXPECT_EQ(FloatToHalf(-(1.0f + 3 * ulp / 2)), 0xBC02);
}

TEST(Float16Test, OverflowAndInfinity) {
  // 65520 is halfway between 65504 (0x7BFF, odd) and 2^16 (not representable): to infinity.
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7C00);
  EXPECT_EQ(FloatToHalf(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
  EXPECT_EQ(FloatToHalf(65519.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(-65520.0f), 0xFC00);
  EXPECT_EQ(FloatToHalf(1e10f), 0x7C00);
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::max()), 0x7C00);
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::infinity()), 0xFC00);
}

TEST(Float16Test, SubnormalsAndUnderflow) {
  const float unit = std::ldexp(1.0f, -24);  // the smallest subnormal half
  // 2^-25 is halfway between 0 (even) and 0x0001: to zero; anything above it rounds up.
  EXPECT_EQ(FloatToHalf(unit / 2), 0x0000);
  EXPECT_EQ(FloatToHalf(-unit / 2), 0x8000);
  EXPECT_EQ(FloatToHalf(std::nextafter(unit / 2, 1.0f)), 0x0001);
  EXPECT_EQ(FloatToHalf(unit / 4), 0x0000);
  // 1.5 units: tie between 1 (odd) and 2: up to 2. 2.5 units: tie between 2 and 3: down to 2.
  EXPECT_EQ(FloatToHalf(1.5f * unit), 0x0002);
  EXPECT_EQ(FloatToHalf(2.5f * unit), 0x0002);
  EXPECT_EQ(FloatToHalf(3.25f * unit), 0x0003);
  // 1023.5 units: tie between 0x03FF (odd) and 1024 units = 2^-14 = 0x0400, the smallest normal.
  EXPECT_EQ(FloatToHalf(1023.5f * unit), 0x0400);
  // Float subnormals and the smallest normal float are far below 2^-25.
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::denorm_min()), 0x8000);
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::min()), 0x0000);
}

TEST(Float16Test, NaNStaysNaN) {
  const float qnan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(IsHalfNaN(FloatToHalf(qnan)));
  EXPECT_TRUE(IsHalfNaN(FloatToHalf(-qnan)));
  EXPECT_EQ(FloatToHalf(-qnan) & 0x8000u, 0x8000u) << "sign kept";
  // A signalling NaN whose payload lies only in the low 13 bits would become
  // infinity if the payload were simply truncated.
  EXPECT_TRUE(IsHalfNaN(FloatToHalf(FromBits(0x7F800001u))));
  EXPECT_TRUE(IsHalfNaN(FloatToHalf(FromBits(0xFF801FFFu))));
  // Top payload bits are kept.
  EXPECT_EQ(FloatToHalf(FromBits(0x7FC00000u | (0x15u << 13))) & 0x3FFu, 0x200u | 0x15u);
  for (uint16_t h : std::vector<uint16_t>{0x7C01, 0x7E00, 0x7FFF, 0xFC01, 0xFE00, 0xFFFF}) {
    EXPECT_TRUE(std::isnan(HalfToFloat(h))) << std::hex << h;
  }
}

TEST(Float16Test, EveryHalfDecodesExactlyAndRoundTrips) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t h = static_cast<uint16_t>(i);
    const float f = HalfToFloat(h);
    if (IsHalfNaN(h)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      const uint16_t back = FloatToHalf(f);
      ASSERT_TRUE(IsHalfNaN(back)) << std::hex << h << " -> " << back;
      ASSERT_EQ(back & 0x8000u, h & 0x8000u) << std::hex << h;
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), HalfValue(h)) << std::hex << h;
    ASSERT_EQ(std::signbit(f), (h & 0x8000u) != 0) << std::hex << h;
    ASSERT_EQ(FloatToHalf(f), h) << std::hex << h;
  }
}

TEST(Float16Test, RoundingMatchesReferenceAtEveryMidpoint) {
  // Every midpoint between neighbouring positive halves (exact in float:
  // 12 significant bits), and the floats just below and above it.
  for (uint32_t h = 0; h < 0x7C00u; ++h) {
    const double next = h + 1 == 0x7C00u ? 65536.0 : HalfValue(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((HalfValue(static_cast<uint16_t>(h)) + next) / 2);
    for (float f : {std::nextafter(mid, 0.0f), mid, std::nextafter(mid, 1e30f)}) {
      ASSERT_EQ(FloatToHalf(f), ReferenceFloatToHalf(f)) << std::hexfloat << f;
      ASSERT_EQ(FloatToHalf(-f), ReferenceFloatToHalf(-f)) << std::hexfloat << -f;
    }
  }
}

TEST(Float16Test, RoundingMatchesReferenceOnSampledFloats) {
  // About a million float bit patterns spread over the whole range, both
  // signs, NaNs skipped (covered above).
  for (uint64_t x = 0; x <= 0xFFFFFFFFu; x += 4093) {
    const float f = FromBits(static_cast<uint32_t>(x));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f), ReferenceFloatToHalf(f)) << std::hex << x << " " << std::hexfloat << f;
  }
}

TEST(Float16Test, BulkConversionMatchesScalar) {
  std::vector<float> in = {0.0f,
                           -0.0f,
                           1.0f,
                           -1.25f,
                           1000.0f,
                           65520.0f,
                           std::ldexp(1.0f, -25),
                           std::ldexp(3.0f, -25),
                           std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::denorm_min()};
  for (int i = 0; i < 1000; ++i) in.push_back(std::ldexp(static_cast<float>(i * 7919 % 2048) - 1024.0f, i % 40 - 30));
  std::vector<uint16_t> halves(in.size());
  FloatsToHalves(in.data(), halves.data(), in.size());
  std::vector<float> back(in.size());
  HalvesToFloats(halves.data(), back.data(), halves.size());
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(halves[i], FloatToHalf(in[i])) << i;
    ASSERT_EQ(Bits(back[i]), Bits(HalfToFloat(halves[i]))) << i;
  }
  // Values that are halves already survive the round trip bit for bit.
  std::vector<float> exact = {0.5f, -1.25f, 1000.0f, 65504.0f, std::ldexp(1.0f, -24)};
  std::vector<uint16_t> h(exact.size());
  std::vector<float> again(exact.size());
  FloatsToHalves(exact.data(), h.data(), exact.size());
  HalvesToFloats(h.data(), again.data(), h.size());
  EXPECT_EQ(again, exact);
  FloatsToHalves(nullptr, nullptr, 0);  // n = 0 touches nothing
  HalvesToFloats(nullptr, nullptr, 0);
}

}  // namespace
}  // namespace avctl
