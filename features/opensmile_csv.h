// Reader of openSMILE ComParE_2016 low-level-descriptor CSVs, in both forms
// people have:
//  (a) SMILExtract -C ComParE_2016.conf -lldcsvoutput f.csv: ';'-separated,
//      header "name;frameTime;<LLDs>", first column a quoted name ('unknown'),
//      usually with the 65 "_de" delta columns too;
//  (b) the Python opensmile package's DataFrame.to_csv(): ','-separated,
//      index columns "file,start,end" (timedeltas such as
//      "0 days 00:00:00.010000", or seconds), then the LLD columns, usually
//      without deltas.
// Deltas present are paired with their base column by name, whatever the
// column order; absent deltas are computed as openSMILE does (deltas.h).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace avctl {

struct LldTable {
  std::vector<std::string> lld_names;  // base names in file order
  size_t frames = 0;
  size_t num_llds = 0;
  std::vector<float> values;           // [frames x 2*num_llds]: LLDs, then their deltas in lld_names order
  bool deltas_computed = false;        // the file had no _de columns
  std::vector<double> frame_times;     // seconds, from frameTime or start
};

Result<LldTable> ReadOpenSmileLldCsv(const std::string& path);
Result<LldTable> ParseOpenSmileLldCsv(std::string_view text, const std::string& name_for_errors);

// The 65 ComParE_2016 LLD names (without the _de suffix).
const std::array<std::string_view, 65>& ComParE2016LldNames();
// OK when the table's LLDs are exactly the 65 ComParE_2016 LLDs (in any order).
Status CheckComParE2016(const LldTable& table, const std::string& name_for_errors);

}  // namespace avctl
