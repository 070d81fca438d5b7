// How label_source_fuzz turns one input into a call: the first byte picks the
// format and options, the rest is the file. Shared with tests/fuzz, which
// replays fuzz/regressions/label_source/ the same way.
#ifndef AVCTL_FUZZ_LABEL_SOURCE_INPUT_H_
#define AVCTL_FUZZ_LABEL_SOURCE_INPUT_H_

#include <cstdint>
#include <string>

#include "store/group_split.h"
#include "store/label_source.h"

namespace avctl::fuzz {

inline LabelSourceOptions LabelOptionsFor(uint8_t pick) {
  LabelSourceOptions o;
  o.format = pick & 1 ? LabelFormat::kMspPodcast : LabelFormat::kGeneric;
  if (pick & 2) o.soft_columns = true;
  if (pick & 4) o.merge = {{"exc", "hap"}};
  if (pick & 8) o.classes = {"ang", "hap"};
  if (pick & 16) o.gender_column = "gender";
  if (pick & 32) o.msp_test_set = "Test2";
  return o;
}

// Reads `input` (non-empty) as a label file and as data split's input; every
// outcome is a Status, so a throw or a sanitizer report is the bug.
inline void ReadLabelInput(const std::string& input) {
  const auto pick = static_cast<uint8_t>(input[0]);
  const std::string text = input.substr(1);
  (void)ParseLabelSource({{"fuzz.csv", text}}, LabelOptionsFor(pick));
  GroupSplitOptions split;
  split.partitions = 1 + pick % 3;
  (void)SplitLabelsCsv(text, "fuzz.csv", "speaker", "label", split);
}

}  // namespace avctl::fuzz

#endif  // AVCTL_FUZZ_LABEL_SOURCE_INPUT_H_
