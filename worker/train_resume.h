// Checkpoint capture and restore of a training run (internal to the
// trainer): the whole state (model, optimiser, schedule, selection, every
// random stream, the curves, an epoch's steps so far) to a checkpoint file
// and back, and the choice of the checkpoint an attempt resumes from.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "common/log.h"
#include "common/status.h"
#include "sweeps/job_config.h"
#include "worker/train_checkpoint.h"
#include "worker/train_run.h"

namespace avctl::training {

// The run continues from `s`: model, optimiser, schedule, selection, every
// random stream, the curves and an epoch's steps so far.
Status Apply(Run& run, Loop& loop, TrainResult* r, EpochProgress* partial, const TrainState& s);

// A checkpoint this attempt may resume from: the furthest one, in the
// policy's folder or at the coordinator's hint, that reads back whole and
// was written by this job and this code. Every newer one refused is listed
// with its reason in the result, and logged.
std::optional<std::pair<std::string, TrainState>> FindResume(const JobConfig& job, const CheckpointPolicy& policy,
                                                             Logger* log, TrainResult* r);

// Writes the run's state as the checkpoint of its position. A checkpoint
// that cannot be written costs resumability, not the run: it is logged.
void WriteState(Run& run, const Loop& loop, TrainResult* r, const EpochProgress* partial);

}  // namespace avctl::training
