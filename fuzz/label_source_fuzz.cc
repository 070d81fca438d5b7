// libFuzzer target: the label files of any corpus (store/label_source.h,
// store/csv_table.h) and data split's reader. The first byte picks the
// format and options (generic with a split column or split_k columns, soft
// columns, a merge and subset; MSP-Podcast); the rest is the file
// (fuzz/label_source_input.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/label_source_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  avctl::fuzz::ReadLabelInput(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
