// A job's progress: one line a training program appends to its progress
// file (JSON lines), forwarded by the worker daemon in a "progress" message
// (with the attempt_id), stored by the record and shown by the status views
// (docs/PROTOCOL.md, "Progress"). Its one typed home: the built-in trainer
// writes it with ProgressToJson, and the daemon, the record, `avctl sweep
// status` and the status page read it with ParseProgress.
//
// Either an epoch finished: {"epoch": N, "epochs": TOTAL, <numbers by name>}
// or a checkpoint event: {"epoch": N, "checkpoint": {...}} (written) or
// {"epoch": N, "resumed": {...}} (the attempt began from it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

struct ProgressCheckpoint {
  std::string path;
  int64_t epochs = 0, batches = 0;
  int64_t attempt_id = 0;  // resumed: the attempt that wrote it
  int64_t bytes = 0;       // written: its size
  double seconds = 0;      // written: the time it took
};

struct ProgressEvent {
  int64_t epoch = 0;   // epochs finished (>= 0)
  int64_t epochs = 0;  // planned in all; 0: not said
  // Numbers by name for an epoch: train_loss, dev_loss, dev_macro_f1, lr, seconds, ...
  std::map<std::string, double> values;
  std::optional<ProgressCheckpoint> checkpoint;  // a checkpoint written
  std::optional<ProgressCheckpoint> resumed;     // the checkpoint this attempt began from

  std::optional<double> Value(const std::string& name) const;
};

// InvalidArgument naming `where` and the field at fault. The member
// "attempt_id" (the wire message's) is not part of the event and is ignored.
Result<ProgressEvent> ParseProgress(const Json& j, const std::string& where = "progress");
Json ProgressToJson(const ProgressEvent& e);

}  // namespace avctl
