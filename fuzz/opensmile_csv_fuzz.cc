// libFuzzer target: the openSMILE LLD CSV reader (SMILExtract and Python
// opensmile layouts, delta computation included).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "features/opensmile_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)avctl::ParseOpenSmileLldCsv(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.csv");
  return 0;
}
