// How a store's labels were read from a generic or MSP-Podcast labels file:
// the format and columns, the labels merged into a kept class, the labels
// dropped and the splits left out (with their row counts), and where the soft
// labels came from. Written into the store's manifest (provenance.labels) by
// synth and import, carried by each built-in job's result (store.labels), and
// shown by `avctl data info` and the report. CREMA-D's partition files have
// none. This is its one home: it parses, writes and describes the document.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

struct LabelProvenance {
  std::string format;                          // "generic" or "msp-podcast"
  std::map<std::string, std::string> columns;  // role (clip, group, label, gender, split) -> column
  std::map<std::string, std::string> merged;   // label -> the class it was merged into
  std::map<std::string, int64_t> dropped;      // label -> rows dropped (not a kept class)
  std::map<std::string, int64_t> excluded_splits;  // split value -> rows left out (MSP-Podcast's Test2, Test3)
  std::string soft_labels = "one-hot";         // "one-hot" or "columns"
  std::string test_split;  // the split value read as Test where the format offers several (MSP-Podcast: Test1, Test2); "" otherwise
};

Json LabelProvenanceToJson(const LabelProvenance& p);
// Errors name the field at fault under `path` ("provenance.labels.dropped.O").
Result<LabelProvenance> LabelProvenanceFromJson(const Json& j, const std::string& path);
// One line: "msp-podcast file, Test1 as Test; dropped labels: O 54, X 55;
// left-out splits: Test2 80; merged: none".
std::string DescribeLabelProvenance(const LabelProvenance& p);

}  // namespace avctl
