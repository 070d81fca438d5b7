// `avctl data import`: builds a feature store from real features:
// openSMILE ComParE_2016 LLD CSVs (<audio-dir>/<clip>.csv, either the
// SMILExtract -lldcsvoutput form or the Python opensmile form; deltas are
// computed when absent) and VGG-face frame features (<visual-dir>/<clip>.npy,
// [frames x 4096]). Files are read in parallel and appended in corpus order;
// The labels are CREMA-D's partition files or any corpus's labels file
// (store/label_source.h: generic CSVs, MSP-Podcast's labels_consensus.csv).
// Without a visual directory the store is audio only (no visual array).
// Any malformed file stops the import with an error naming the file and the
// line or field, and nothing is published (see StoreWriter).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/status.h"
#include "store/label_source.h"

namespace avctl {

struct ImportOptions {
  std::vector<std::string> label_files;
  LabelSourceOptions labels;  // the files' format, columns and classes (CREMA-D's by default)
  std::string audio_dir;
  std::string visual_dir;     // "": an audio-only store
  std::string out_dir;
  double visual_fps = 30.0;
  double audio_step_ms = 16.0;
  int expect_llds = 65;           // 0: any, but the same in every file
  int expect_visual_dim = 4096;   // 0: any, but the same in every file
  bool skip_missing = false;      // import what is there instead of failing
  int threads = 0;
  bool overwrite = false;
};

struct ImportReport {
  std::string out_dir;
  int64_t clips_listed = 0;
  int64_t clips_imported = 0;
  std::vector<std::string> missing_audio;   // clip ids without <clip>.csv
  std::vector<std::string> missing_visual;  // clip ids without <clip>.npy
  int64_t deltas_computed = 0;              // files that had no _de columns
  int64_t audio_dim = 0, visual_dim = 0;
  int64_t audio_frames = 0, visual_frames = 0;
};

Result<ImportReport> ImportStore(const ImportOptions& options, Logger* log);
std::string RenderImportReport(const ImportReport& report);
// "12 clips without audio: a, b, c, ... (9 more)"
std::string SummarizeMissing(const std::vector<std::string>& ids, const std::string& what, size_t show = 10);

}  // namespace avctl
