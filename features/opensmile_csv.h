// Reader of openSMILE ComParE_2016 low-level-descriptor (LLD) CSV files, in
// the two forms people have:
//  (a) SMILExtract -C ComParE_2016.conf -lldcsvoutput f.csv (cCsvSink):
//      ';'-separated, header "name;frameTime;<LLDs>;<LLD deltas>", the first
//      column the quoted instance name ('unknown'), frameTime in seconds;
//      cCsvSink's optional frameIndex / frameLength columns are accepted too;
//  (b) the Python opensmile package's DataFrame written with .to_csv():
//      ','-separated, index columns "file,start,end" (or "start,end" from
//      process_signal) holding pandas timedeltas ("0 days 00:00:00.010000")
//      or seconds, then the LLD columns, usually without deltas.
// The form is detected from the header. Delta columns are named as
// cDeltaRegression names them (nameAppend "de"): "X_de" for "X", and
// "X_de[k]" for the array element "X[k]" (audSpec_Rfilt_sma_de[3],
// mfcc_sma_de[1]); each is paired with its base by name, whatever the column
// order. When the file has no delta columns they are computed as openSMILE
// would (deltas.h): plain regression, W = 2, and, when all six ComParE_2016
// voicing LLDs are present, openSMILE's segment mode for those six
// (ComputeSegmentDeltas), as ComParE_2016 computes them.
//
// Errors name the file, the 1-based line and the column at fault.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace avctl {

struct LldTable {
  std::vector<std::string> lld_names;  // base names in file order
  size_t frames = 0;
  size_t num_llds = 0;
  std::vector<float> values;           // [frames x 2*num_llds]: LLDs, then their deltas, both in lld_names order
  bool deltas_computed = false;        // the file had no delta columns; they were computed here
  std::vector<double> frame_times;     // seconds, from frameTime (form a) or start (form b)
};

Result<LldTable> ParseOpenSmileLldCsv(std::string_view text, const std::string& name_for_errors);
Result<LldTable> ReadOpenSmileLldCsv(const std::string& path);

// The 65 ComParE_2016 LLD names in the order SMILExtract and the Python
// package write them: the "lld" level of config/compare16/ComParE_2016.conf
// concatenates is13_lld_nzsmo (6 voicing LLDs), is13_lldA_smo (4 energy
// LLDs) and is13_lldB_smo (26 RASTA bands, 15 spectral, MFCC 1-14), in the
// component order of ComParE_2016_core.lld.conf.inc.
constexpr size_t kComParE2016NumLlds = 65;
const std::array<std::string_view, kComParE2016NumLlds>& ComParE2016LldNames();
// The first six of them, whose deltas ComParE_2016 computes in segment mode.
constexpr size_t kComParE2016NumVoicingLlds = 6;

// "X_de" for "X", "X_de[k]" for "X[k]".
std::string DeltaColumnName(std::string_view lld_name);

// OK when the table's LLDs are exactly the 65 ComParE_2016 LLDs, in any
// order; otherwise names the first unknown column or the missing ones.
Status CheckComParE2016(const LldTable& table, const std::string& name_for_errors);

}  // namespace avctl
