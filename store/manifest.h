// The manifest of a feature store (manifest.json): what the arrays hold, where
// each clip's frames are, the labels and splits, checksums and provenance.
//
// On-disk layout of a store directory, format version 1:
//   manifest.json    this manifest
//   audio.f32        float32 [total audio frames x audio dim], little-endian
//   visual.f16       IEEE float16 [total visual frames x visual dim], little-endian
//   norm_stats.f32   float32, per partition in manifest order:
//                    audio mean[Da], audio std[Da], visual mean[Dv], visual std[Dv]
//                    over the frames of that partition's Train clips
// Clips are stored back to back in manifest order: clip i's audio rows are
// [audio_offset, audio_offset + audio_frames) and likewise for visual.
// An audio-only store (a corpus without video, such as MSP-Podcast) has no
// visual.f16, no "visual" entry in the manifest or its clips, and norm
// statistics of the audio only (visual dim 0).
// A clip of CREMA-D is stored with "actor" (a number), "sentence" and
// "level"; a clip of any other corpus with "group" (its speaker or session).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/emotions.h"
#include "common/json_util.h"
#include "common/status.h"
#include "store/labels.h"

namespace avctl {

inline constexpr const char* kStoreFormatName = "avctl-feature-store";
inline constexpr int kStoreFormatVersion = 1;
inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kAudioFile = "audio.f32";
inline constexpr const char* kVisualFile = "visual.f16";
inline constexpr const char* kNormStatsFile = "norm_stats.f32";

enum class DType { kFloat32, kFloat16 };
const char* DTypeName(DType t);
size_t DTypeSize(DType t);

struct ArrayInfo {
  std::string file;
  DType dtype = DType::kFloat32;
  int64_t dim = 0;
  int64_t frames = 0;
  double frame_rate_hz = 0;   // audio 62.5 (16 ms step), visual 30
  int64_t bytes = 0;          // frames * dim * sizeof(dtype)
  std::string checksum;       // "xxh3-64:..."
};

struct NormStatsInfo {
  std::string file;
  int64_t bytes = 0;
  std::string checksum;
  std::vector<int64_t> train_audio_frames;   // per partition
  std::vector<int64_t> train_visual_frames;  // per partition
};

struct ClipRecord {
  std::string id;        // "1001_DFA_ANG_XX"
  std::string group;     // speaker or session; CREMA-D: the actor ("1001"), stored as "actor": 1001
  std::string gender;    // "Male" / "Female" ("" when the labels do not say)
  std::string sentence;  // CREMA-D's "DFA"; "" for other corpora (then not stored)
  std::string level;     // CREMA-D's "LO", "MD", "HI", "XX"; "" for other corpora
  int intended = 0;      // class index of the emotion in the file name (other corpora: the label)
  int label = 0;         // hard label (class index)
  std::vector<float> soft;    // soft labels, one per class of the store (Manifest::classes)
  std::vector<Split> splits;  // one per partition, in Manifest::partitions order
  int64_t audio_offset = 0, audio_frames = 0;
  int64_t visual_offset = 0, visual_frames = 0;
};

struct Manifest {
  int format_version = kStoreFormatVersion;
  // The label schema: class codes in class-index order and their display
  // names. CREMA-D's six by default; "class_names" is written only for
  // other classes, so a CREMA-D store's manifest stays as it always was.
  std::vector<std::string> classes = CremaClassCodes();
  std::vector<std::string> class_names = CremaClassNames();
  std::string created_by;  // "avctl <code version>"
  bool synthetic = false;
  Json provenance = Json::object();  // how the store was made (synth options, import directories)
  std::vector<int> partitions;       // partition numbers, e.g. 1..5
  ArrayInfo audio;
  ArrayInfo visual;
  NormStatsInfo norm_stats;
  std::vector<ClipRecord> clips;

  // False for an audio-only store.
  bool has_visual() const { return visual.dim > 0; }
  // Index into partitions of a partition number, or -1.
  int PartitionIndex(int partition) const;
};

// The manifest entry of a corpus clip (offsets and frame counts are set by the writer).
ClipRecord ClipRecordFromCorpus(const CorpusClip& clip);

// A CREMA-D clip: a sentence code and a numeric actor. The manifest writes
// such a clip as stores always have (`actor`, `sentence`, `level`) and any
// other with `group`; data info calls CREMA-D's groups actors.
bool IsCremaRecord(const ClipRecord& c);

// [{"name": file name, "checksum": ...}] of the label files a store was made from.
Result<Json> LabelFilesProvenance(const std::vector<std::string>& label_files);

Json ManifestToJson(const Manifest& m);
// Checks types and internal consistency (offsets contiguous, sizes agree,
// labels in range); errors name the JSON path and the file `source`.
Result<Manifest> ManifestFromJson(const Json& j, const std::string& source);

}  // namespace avctl
