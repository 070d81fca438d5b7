// FeatureStore: a feature store opened read-only. The arrays are mmap'd, so
// any number of jobs in one process (and processes on one machine) share
// one copy through the page cache. Open() checks the manifest, the file
// sizes and, unless told not to, the checksums of every data file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/mapped_file.h"
#include "common/status.h"
#include "store/manifest.h"

namespace avctl {

// Per-dimension statistics of one partition's Train frames. A dimension
// whose standard deviation is below 1e-6 has std stored as 1, so that
// z-normalisation only centres it.
struct NormStatsView {
  const float* audio_mean = nullptr;   // [audio dim]
  const float* audio_std = nullptr;
  const float* visual_mean = nullptr;  // [visual dim]
  const float* visual_std = nullptr;
};

class FeatureStore {
 public:
  struct Options {
    bool verify_checksums = true;
  };

  static Result<std::unique_ptr<FeatureStore>> Open(const std::string& dir, const Options& options);
  static Result<std::unique_ptr<FeatureStore>> Open(const std::string& dir) { return Open(dir, Options()); }

  const Manifest& manifest() const { return manifest_; }
  const std::string& dir() const { return dir_; }
  size_t num_clips() const { return manifest_.clips.size(); }
  // The label schema: how many classes, their names in class-index order.
  int num_classes() const { return static_cast<int>(manifest_.classes.size()); }
  const std::vector<std::string>& class_names() const { return manifest_.class_names; }
  const ClipRecord& clip(size_t i) const { return manifest_.clips[i]; }
  int64_t audio_dim() const { return manifest_.audio.dim; }
  int64_t visual_dim() const { return manifest_.visual.dim; }  // 0: an audio-only store
  bool has_visual() const { return manifest_.has_visual(); }

  // Row-major [clip(i).audio_frames x audio_dim()] float32.
  const float* audio(size_t i) const;
  // Row-major [clip(i).visual_frames x visual_dim()] IEEE float16 bits;
  // nullptr in an audio-only store.
  const uint16_t* visual(size_t i) const;

  Result<NormStatsView> norm_stats(int partition) const;
  Result<std::vector<size_t>> ClipsInSplit(int partition, Split split) const;

  // Recomputes every checksum; Corruption naming the file on a mismatch.
  Status VerifyChecksums() const;

 private:
  FeatureStore() = default;

  std::string dir_;
  Manifest manifest_;
  std::unique_ptr<MappedFile> audio_;
  std::unique_ptr<MappedFile> visual_;
  std::unique_ptr<MappedFile> stats_;
};

}  // namespace avctl
