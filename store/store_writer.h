// StoreWriter: builds a feature store clip by clip and publishes it
// atomically. Everything is written into "<out>.tmp-XXXXXX" next to the
// destination; only Finish() renames it into place, after the arrays, the
// normalisation statistics and the manifest are written and fsynced. A writer
// destroyed before Finish() removes its temporary directory, so a failed or
// interrupted synth/import never leaves something that opens as a store.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/status.h"
#include "store/manifest.h"

namespace avctl {

struct StoreLayout {
  int64_t audio_dim = 130;
  int64_t visual_dim = 4096;
  double audio_frame_rate_hz = 62.5;  // one frame per 16 ms
  double visual_frame_rate_hz = 30.0;
  std::vector<int> partitions;        // partition numbers; each clip has one split per partition
  // The label schema (store/manifest.h): class codes in index order and their names.
  std::vector<std::string> classes = CremaClassCodes();
  std::vector<std::string> class_names = CremaClassNames();
};

class StoreWriter {
 public:
  // Fails with AlreadyExists if `out_dir` exists and `overwrite` is false.
  // With `overwrite`, an existing directory is replaced only if it is empty
  // or a feature store (has a manifest.json), and only at Finish().
  static Result<std::unique_ptr<StoreWriter>> Create(const std::string& out_dir, const StoreLayout& layout,
                                                     bool overwrite);
  ~StoreWriter();

  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Appends one clip. `clip`'s offsets and frame counts are set here from the
  // arrays: audio is [audio_frames x audio_dim] float32, visual is
  // [visual_frames x visual_dim] float32, stored as float16. Non-finite
  // values, or visual values beyond float16's range, are rejected.
  Status AddClip(ClipRecord clip, const float* audio, int64_t audio_frames, const float* visual,
                 int64_t visual_frames);

  // Writes norm_stats.f32 and manifest.json, fsyncs and renames into place.
  Status Finish(bool synthetic, Json provenance);

  const std::string& temp_dir() const { return tmp_dir_; }
  size_t num_clips() const { return clips_.size(); }

 private:
  struct Accumulator;  // per-partition Train sums for the statistics

  StoreWriter(std::string out_dir, std::string tmp_dir, StoreLayout layout, bool overwrite);
  Status OpenFiles();
  Status WriteBytes(std::FILE* f, Checksummer* sum, const void* data, size_t size, const std::string& path);
  Status WriteNormStats(NormStatsInfo* info);
  Status Publish();

  std::string out_dir_;
  std::string tmp_dir_;
  StoreLayout layout_;
  bool overwrite_;
  bool finished_ = false;

  std::FILE* audio_file_ = nullptr;
  std::FILE* visual_file_ = nullptr;
  Checksummer audio_sum_;
  Checksummer visual_sum_;
  int64_t audio_frames_ = 0;
  int64_t visual_frames_ = 0;
  std::vector<ClipRecord> clips_;
  std::unique_ptr<Accumulator> acc_;
  std::vector<uint16_t> half_buf_;
  std::vector<float> dequant_buf_;
};

}  // namespace avctl
