#include "common/float16.h"

#include <array>
#include <cstring>

namespace avctl {

namespace {

// Bit layouts: half = sign:1 exponent:5 (bias 15) mantissa:10,
//              float = sign:1 exponent:8 (bias 127) mantissa:23.
constexpr uint32_t kFloatExpBiasDiff = 127 - 15;     // 112
constexpr uint32_t kFloatInf = 0x7F800000u;
constexpr uint32_t kFloatMinNormalHalf = 0x38800000u;  // 2^-14, the smallest normal half
constexpr uint32_t kFloatHalfOverflow = 0x477FF000u;   // 65520: halfway between 65504 and 2^16
constexpr uint16_t kHalfInf = 0x7C00u;
constexpr uint16_t kHalfQuietBit = 0x0200u;

uint32_t FloatBits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  return x;
}

float BitsToFloat(uint32_t x) {
  float f;
  std::memcpy(&f, &x, sizeof f);
  return f;
}

// Straightforward decoding, used once to fill the lookup table.
float DecodeHalf(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  if (exp == 0x1F) {  // infinity, or NaN (made quiet, payload kept)
    return BitsToFloat(sign | kFloatInf | mant << 13 | (mant != 0 ? 0x00400000u : 0u));
  }
  if (exp != 0) return BitsToFloat(sign | (exp + kFloatExpBiasDiff) << 23 | mant << 13);
  if (mant == 0) return BitsToFloat(sign);  // signed zero
  // Subnormal: mant * 2^-24. Shift the leading 1 up to the implicit bit
  // position (bit 10); each shift lowers the exponent by one.
  uint32_t float_exp = kFloatExpBiasDiff + 1;  // the exponent of 2^-14, the subnormals' scale
  while ((mant & 0x400u) == 0) {
    mant <<= 1;
    --float_exp;
  }
  return BitsToFloat(sign | float_exp << 23 | (mant & 0x3FFu) << 13);
}

const std::array<float, 65536>& HalfTable() {
  static const std::array<float, 65536> table = [] {
    std::array<float, 65536> t{};
    for (uint32_t i = 0; i < t.size(); ++i) t[i] = DecodeHalf(static_cast<uint16_t>(i));
    return t;
  }();
  return table;
}

}  // namespace

// Branch-free (every case is computed, then one is selected) so that bulk
// conversion of unpredictable data does not pay for mispredictions.
uint16_t FloatToHalf(float value) {
  const uint32_t x = FloatBits(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7FFFFFFFu;

  // Normal halves: rebias the exponent and drop 13 mantissa bits, rounding to
  // nearest even: adding 0xFFF plus the kept lowest bit carries exactly when
  // the dropped part is above one half, or equal to it with an odd result. A
  // carry out of the mantissa correctly bumps the exponent. (For abs below
  // the normal range the subtraction wraps; that result is not selected.)
  const uint32_t normal = (abs - (kFloatExpBiasDiff << 23) + 0xFFFu + ((abs >> 13) & 1u)) >> 13;

  // Subnormal halves count units of 2^-24. A float with biased exponent e and
  // 24-bit significand m is m * 2^(e - 150), i.e. m >> (126 - e) units; round
  // that shift to nearest even the same way. Exponents of 101 and below
  // (values under 2^-25, float subnormals included) use a shift of 25, which
  // gives 0 since m < 2^25 and m + 2^24 - 1 + 0 < 2^25.
  const uint32_t exp = abs >> 23;
  const uint32_t shift = exp >= 112 ? 14u : (exp <= 101 ? 25u : 126u - exp);
  const uint32_t mant = (abs & 0x7FFFFFu) | 0x800000u;
  const uint32_t subnormal = (mant + (1u << (shift - 1)) - 1u + ((mant >> shift) & 1u)) >> shift;

  // NaN: keep the payload's top bits and make it quiet, so it stays a NaN
  // even when those bits are all zero.
  const uint32_t nan = kHalfInf | kHalfQuietBit | ((abs >> 13) & 0x3FFu);

  uint32_t h = abs < kFloatMinNormalHalf ? subnormal : normal;
  h = abs >= kFloatHalfOverflow ? kHalfInf : h;  // also +-infinity itself
  h = abs > kFloatInf ? nan : h;
  return static_cast<uint16_t>(sign | h);
}

float HalfToFloat(uint16_t bits) { return HalfTable()[bits]; }

void FloatsToHalves(const float* in, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = FloatToHalf(in[i]);
}

void HalvesToFloats(const uint16_t* in, float* out, size_t n) {
  const std::array<float, 65536>& table = HalfTable();
  for (size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

}  // namespace avctl
