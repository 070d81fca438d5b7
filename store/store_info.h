// A summary of a feature store for people (`avctl data info`): clips per
// split, class and actor, frame and duration statistics, sizes, checksum
// status, provenance. Computed from the manifest (pure), rendered as text
// or JSON.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "store/manifest.h"

namespace avctl {

struct FrameStats {
  int64_t min = 0, max = 0, total = 0;
  double mean = 0;
};

struct SplitCounts {
  int64_t clips = 0;
  int64_t actors = 0;
  std::vector<int64_t> per_class;  // by class index (StoreSummary::classes)
};

struct StoreSummary {
  bool synthetic = false;
  std::string created_by;
  Json provenance;
  int64_t clips = 0;
  int64_t actors = 0;                  // groups: CREMA-D's actors, another corpus's speakers or sessions
  std::string group_word = "actors";   // how the text calls them: "actors" (CREMA-D) or "groups"
  int64_t male_actors = 0, female_actors = 0;
  std::vector<std::string> classes;      // the store's class codes
  std::vector<std::string> class_names;  // their names, in the same order
  std::vector<int64_t> per_class;    // by class index
  int64_t min_clips_per_actor = 0, max_clips_per_actor = 0;
  std::map<std::string, int64_t> clips_per_actor;  // per group (CREMA-D: actor)
  std::vector<int> partitions;
  std::vector<std::array<SplitCounts, kNumSplits>> splits;  // per partition
  FrameStats audio_frames, visual_frames;
  double min_seconds = 0, mean_seconds = 0, max_seconds = 0;  // from audio frames
  int64_t audio_dim = 0, visual_dim = 0;
  int64_t audio_bytes = 0, visual_bytes = 0, stats_bytes = 0;
  std::string checksum_status;  // "verified", "skipped" or the error
};

StoreSummary SummarizeManifest(const Manifest& m);
std::string RenderSummaryText(const StoreSummary& s, bool per_actor);
Json SummaryToJson(const StoreSummary& s);

}  // namespace avctl
