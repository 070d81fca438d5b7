// libFuzzer target: the NumPy .npy reader (versions 1-3, dtypes, byte order,
// Fortran order, shapes).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "features/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)avctl::ParseNpy(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.npy");
  return 0;
}
