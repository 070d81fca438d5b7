// One training step's making and placement (internal to the trainer):
// where batches go and in which form, the step's inputs made in order from
// the job's random streams, their copy to the device, and the loss.
#pragma once

#include <utility>
#include <vector>

#include <torch/torch.h>

#include "common/random.h"
#include "common/status.h"
#include "store/feature_store.h"
#include "sweeps/job_config.h"
#include "worker/av_model.h"
#include "worker/device.h"
#include "worker/store_batches.h"

namespace avctl::training {

// Where batches go and in which form: the host layout, and on the device the
// visual normalisation that BatchLayout::visual_half leaves to it.
struct Placement {
  OpenedDevice dev;
  BatchLayout layout;
  torch::Tensor visual_mean, visual_inv_std;  // on the device; defined with layout.visual_half
};

Placement MakePlacement(const OpenedDevice& dev, const StoreBatches& batches);

// The host side of one training step: the batch and the step's random
// decisions, made off the training thread.
struct StepInputs {
  Batch batch;
  bool audio_dropped = false, visual_dropped = false;
  torch::Tensor visual_keep;  // random visual ablation: 1 keep, 0 ablate; undefined: none
  torch::Tensor weight;       // 1 for labeled clips, 0 for the others; undefined: all labeled
  RngState modality_after, ablation_after;  // the maker's streams once this step was made (checkpoints)
};

// Makes the training steps' inputs strictly in order from the job's own
// random streams (modality dropout, visual ablation), so that a seed gives
// the same steps whichever thread makes them and however far ahead.
class StepMaker {
 public:
  StepMaker(const StoreBatches* batches, const JobConfig& job, const FeatureStore& store,
            const std::vector<size_t>& train, const std::vector<bool>& labeled, BatchLayout layout)
      : batches_(batches),
        model_(job.model),
        layout_(layout),
        semi_supervised_(job.train.labeled_fraction < 1.0),
        labeled_(store.num_clips(), 1),
        modality_rng_(DeriveSeed(job.seed, "modality-dropout")),
        ablation_rng_(DeriveSeed(job.seed, "visual-ablation")) {
    for (size_t i = 0; i < train.size(); ++i) labeled_[train[i]] = labeled[i] ? 1 : 0;
  }

  Result<StepInputs> Make(const std::vector<size_t>& clips);

  // Only between epochs or before the first Make of one (no prefetch running).
  std::pair<RngState, RngState> state() const { return {modality_rng_.state(), ablation_rng_.state()}; }
  void set_state(const RngState& modality, const RngState& ablation) {
    modality_rng_.set_state(modality);
    ablation_rng_.set_state(ablation);
  }

 private:
  const StoreBatches* batches_;
  ModelConfig model_;
  BatchLayout layout_;
  bool semi_supervised_;
  std::vector<char> labeled_;  // per store clip
  Rng modality_rng_, ablation_rng_;
};

// A step's tensors on the device.
struct DeviceStep {
  ModelInputs in;
  torch::Tensor labels, soft, weight;
  int64_t clips = 0;
};

// `t` on the placement's device (no copy when it is there already).
torch::Tensor ToDevice(const torch::Tensor& t, const Placement& p);

// The model's inputs on the device; a dropped modality is made there as
// zeros instead of being copied.
ModelInputs InputsToDevice(const Batch& b, const Placement& p, bool audio_dropped = false, bool visual_dropped = false);

// A training step's tensors on the device (the visual ablation applied).
DeviceStep StepToDevice(const StepInputs& s, const Placement& p);

// Per-clip cross-entropy, averaged (weighted by `weight` where defined).
// Hard labels are scored as one-hot soft targets: the same values as
// gathering the label's log-probability, with a backward pass that is a
// product instead of a scatter (atomics on CUDA, so not deterministic).
// `class_weight` [K] (undefined: none) weighs each class as PyTorch's
// CrossEntropyLoss(weight) does: hard labels by their class's weight, the
// mean taken over those weights; soft targets per class inside the sum,
// the mean over clips.
torch::Tensor CrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& soft,
                           bool use_soft, const torch::Tensor& weight, const torch::Tensor& class_weight = {});

// "balanced" class weights over the given labels: n / (K n_c); a class
// with no label gets 0 (it is never a hard target).
std::vector<float> BalancedClassWeights(const std::vector<int>& labels, int classes);

// The mean of the heads' logits (the evaluation prediction).
torch::Tensor MeanLogits(const std::vector<torch::Tensor>& heads);

}  // namespace avctl::training
