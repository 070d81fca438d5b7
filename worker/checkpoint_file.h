// An attempt's checkpoint on disk (issue 17's groundwork): one file holding
// a JSON header (job key, attempt, epoch, ...) and named binary sections (the
// trainer's model and optimizer archives, RNG states, curves), written to a
// temporary name, fsynced and renamed, and sealed with an XXH3-64 checksum
// over every byte before the trailer. A truncated or corrupted file is
// refused naming the file and what is wrong, never half-read. Torch-free:
// the trainer fills the sections.
//
// Layout (little-endian): "AVCKPT01" | u64 header bytes | header JSON |
// u32 sections | per section: u32 name bytes, name, u64 bytes, bytes |
// u64 checksum | "AVCKEND1".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

struct Checkpoint {
  Json header = Json::object();
  std::map<std::string, std::string> sections;  // name -> bytes
};

Status WriteCheckpoint(const std::string& path, const Checkpoint& checkpoint);
// Corruption naming the file (bad magic, truncation, checksum mismatch,
// header not JSON); IOError when it cannot be read.
Result<Checkpoint> ReadCheckpoint(const std::string& path);

// Where in a run a checkpoint was taken: after `epochs` whole epochs and
// `batches` training steps of the next one (a stop between batches).
struct CheckpointPosition {
  int epochs = 0, batches = 0;
  bool operator<(const CheckpointPosition& o) const {
    return epochs != o.epochs ? epochs < o.epochs : batches < o.batches;
  }
};

// "epoch-0007.ckpt" after 7 epochs; "epoch-0007-batch-0012.ckpt" 12 steps
// into the 8th.
std::string CheckpointFileName(CheckpointPosition at);
// The position a checkpoint file name stands for; nullopt for other names.
std::optional<CheckpointPosition> ParseCheckpointFileName(const std::string& name);

struct FoundCheckpoint {
  std::string path;
  CheckpointPosition at;
  Checkpoint checkpoint;
};
// The latest checkpoint in `dir` that reads back whole; newer ones that do
// not are skipped, each with its reason in `skipped`. nullopt when none is
// valid (or the folder does not exist).
std::optional<FoundCheckpoint> LatestCheckpoint(const std::string& dir, std::vector<std::string>* skipped);

// Removes all but the `keep` latest checkpoint files of `dir` (a fallback
// stays should the newest be damaged later).
Status PruneCheckpoints(const std::string& dir, int keep);

}  // namespace avctl
