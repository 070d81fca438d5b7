// IEEE 754 binary16 ("half") <-> binary32 conversion, portable C++ (no
// intrinsics, no dependence on the floating-point environment).
//
// FloatToHalf rounds to nearest, ties to even, like a hardware conversion:
// magnitudes from 65520 up become infinity, those below 2^-14 become
// subnormal halves (down to 2^-24) and those at or below 2^-25 become
// (signed) zero. Infinities keep their sign; a NaN stays a quiet NaN with the
// top 9 bits of its payload. HalfToFloat is exact (every half is a float).
#pragma once

#include <cstddef>
#include <cstdint>

namespace avctl {

uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t bits);

// Bulk forms for converting whole arrays (feature stores hold GBs of halves).
// `in` and `out` must not overlap.
void FloatsToHalves(const float* in, uint16_t* out, size_t n);
void HalvesToFloats(const uint16_t* in, float* out, size_t n);

}  // namespace avctl
