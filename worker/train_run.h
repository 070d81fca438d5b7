// What the trainer's parts share (internal to the trainer): the run (data,
// model, optimiser, step maker), an epoch's sums and progress, and what the
// epoch loop carries from one epoch to the next.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/log.h"
#include "store/feature_store.h"
#include "sweeps/job_config.h"
#include "worker/av_model.h"
#include "worker/epoch_schedule.h"
#include "worker/optimizer.h"
#include "worker/store_batches.h"
#include "worker/train_step.h"
#include "worker/trainer.h"

namespace avctl::training {

using SteadyClock = std::chrono::steady_clock;

inline double Seconds(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// A copy of a module's parameters and buffers (the best epoch's model).
struct Snapshot {
  std::vector<torch::Tensor> params, buffers;
};

Snapshot Save(torch::nn::Module& m);
void Restore(torch::nn::Module& m, const Snapshot& s);

// What the job's functions share: the data, the model and its optimiser.
struct Run {
  Run(const JobConfig& j, const FeatureStore& s, Logger* l, const TrainHooks& h, StoreBatches b)
      : job(j), store(s), log(l), hooks(h), batches(std::move(b)) {}

  const JobConfig& job;
  const FeatureStore& store;
  Logger* log;
  const TrainHooks& hooks;
  StoreBatches batches;
  Placement place;
  std::vector<size_t> train, dev, test;
  AvModel model{nullptr};
  std::unique_ptr<MultiTensorAdam> opt;
  std::unique_ptr<StepMaker> steps;
  bool soft = false;
  torch::Tensor class_weight;  // [K] on the device ("balanced"); undefined: none
};

// Sums over an epoch's steps, kept on the device until the epoch ends.
struct EpochSums {
  explicit EpochSums(const torch::Device& device)
      : loss(torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device))),
        sup(torch::zeros_like(loss)),
        uns(torch::zeros_like(loss)),
        first_bad(torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device))),
        bad_value(torch::zeros_like(loss)) {}

  void Add(int64_t batch, const torch::Tensor& total, const torch::Tensor& supervised,
           const torch::Tensor& unsupervised, const std::map<std::string, torch::Tensor>& step_costs, int64_t clips);

  torch::Tensor loss, sup, uns;  // float64: sum over steps of value x clips
  std::map<std::string, torch::Tensor> costs;
  torch::Tensor first_bad;  // 0: none
  torch::Tensor bad_value;
};

// An epoch's training so far: empty at its start, or where a stop between
// two steps left it (and a resumed attempt picks it up).
struct EpochProgress {
  explicit EpochProgress(const torch::Device& device) : sums(device) {}
  int batches_done = 0;
  EpochSums sums;
  int64_t clips = 0;
  double wait = 0, train_seconds = 0;
  RngState modality, ablation;  // the step maker's streams after batches_done steps
};

// What the epoch loop carries from one epoch to the next (with the model,
// the optimiser and the step maker's streams in Run, and the curves in the
// result).
struct Loop {
  explicit Loop(const JobConfig& job)
      : selector(job.train.select_by == SelectBy::kDevMacroF1, job.train.early_stop_patience),
        plateau(job.train.lr, job.train.plateau_patience, job.train.plateau_factor) {}
  EpochSelector selector;
  PlateauSchedule plateau;
  Snapshot best;
  bool has_best = false;
  double train_seconds = 0, wait_seconds = 0;
  int64_t train_clips_seen = 0;
};

}  // namespace avctl::training
