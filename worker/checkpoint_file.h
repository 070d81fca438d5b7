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

// "epoch-0007.ckpt": the file name of the checkpoint taken after `epoch`.
std::string CheckpointFileName(int epoch);

struct FoundCheckpoint {
  std::string path;
  int epoch = 0;
  Checkpoint checkpoint;
};
// The checkpoint of the latest epoch in `dir` that reads back whole; newer
// ones that do not are skipped, each with its reason in `skipped`. nullopt
// when none is valid (or the folder does not exist).
std::optional<FoundCheckpoint> LatestCheckpoint(const std::string& dir, std::vector<std::string>* skipped);

}  // namespace avctl
