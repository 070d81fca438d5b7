// libFuzzer target: the label files of any corpus (store/label_source.h,
// store/csv_table.h) and data split's reader. The first byte picks the
// format and options (generic with a split column or split_k columns, soft
// columns, a merge and subset; MSP-Podcast); the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "store/group_split.h"
#include "store/label_source.h"

namespace {

avctl::LabelSourceOptions OptionsFor(uint8_t pick) {
  avctl::LabelSourceOptions o;
  o.format = pick & 1 ? avctl::LabelFormat::kMspPodcast : avctl::LabelFormat::kGeneric;
  if (pick & 2) o.soft_columns = true;
  if (pick & 4) o.merge = {{"exc", "hap"}};
  if (pick & 8) o.classes = {"ang", "hap"};
  if (pick & 16) o.gender_column = "gender";
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)avctl::ParseLabelSource({{"fuzz.csv", text}}, OptionsFor(data[0]));
  avctl::GroupSplitOptions split;
  split.partitions = 1 + data[0] % 3;
  (void)avctl::SplitLabelsCsv(text, "fuzz.csv", "speaker", "label", split);
  return 0;
}
