// What a training attempt resumes from (issue 17): the whole state of a run
// at an epoch end or between two training steps, and its encoding into the
// sections of a checkpoint file (worker/checkpoint_file.h). Restoring it and
// training on gives the same bytes as never stopping (CPU, same thread
// count): the model and optimiser tensors are stored bit for bit, every
// random stream as its exact state, and the per-epoch decisions as the bit
// patterns of their doubles.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/json_util.h"
#include "common/random.h"
#include "common/status.h"
#include "worker/checkpoint_file.h"
#include "worker/epoch_schedule.h"
#include "worker/trainer.h"

namespace avctl {

// An epoch's training steps so far (a stop between batches): the loss sums,
// still on the device in the run, here as float64/int64 tensors.
struct PartialEpochState {
  std::vector<std::string> cost_names;   // the ladder costs summed so far
  std::vector<torch::Tensor> sums;       // loss, sup, uns, first_bad, bad_value, then one per cost name
  int64_t clips = 0;
  double data_wait_seconds = 0, train_seconds = 0;
};

struct TrainState {
  // Identity: a checkpoint resumes only the job and code that wrote it.
  std::string job_key;
  Json config;                 // JobConfigToJson less the settings that do not change results
  std::string code_version;
  int64_t attempt_id = 0;      // the attempt that wrote it (0: a local run)

  CheckpointPosition at;
  std::vector<torch::Tensor> params, buffers;
  int64_t adam_steps = 0;
  std::vector<torch::Tensor> exp_avg, exp_avg_sq;  // undefined for parameters never updated
  std::vector<int64_t> param_steps;
  double lr = 0;
  EpochSelector::State selector;
  PlateauSchedule::State plateau;
  bool has_best = false;
  std::vector<torch::Tensor> best_params, best_buffers;
  RngState modality_rng, ablation_rng;  // the step maker's streams after the last step taken
  std::string cpu_generator, cuda_generator;  // torch's generator states (cuda: empty on CPU runs)
  std::vector<EpochRecord> epochs;      // the curves so far
  double train_seconds = 0, data_wait_seconds = 0;
  int64_t train_clips_seen = 0;
  PartialEpochState partial;            // at.batches > 0 only
};

Checkpoint EncodeTrainState(const TrainState& state);
// Corruption naming `path` and the section at fault when a section is
// missing or does not decode.
Result<TrainState> DecodeTrainState(const Checkpoint& checkpoint, const std::string& path);

// The job's settings that a checkpoint must match: everything but where
// and how it runs (device, threads, prefetch, checkpoint settings), which
// do not change its numbers on CPU.
Json ResumeIdentity(const JobConfig& job);

Json EpochRecordToJson(const EpochRecord& e);
Result<EpochRecord> EpochRecordFromJson(const Json& j, const std::string& field);

}  // namespace avctl
