// IEEE 754 binary16 <-> binary32 conversion, portable (no intrinsics):
// round to nearest even, subnormals, infinities; NaN stays NaN.
#pragma once

#include <cstddef>
#include <cstdint>

namespace avctl {

uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t bits);
void FloatsToHalves(const float* in, uint16_t* out, size_t n);
void HalvesToFloats(const uint16_t* in, float* out, size_t n);

}  // namespace avctl
