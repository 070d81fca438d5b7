// Padded, z-normalised batches of a feature store as libtorch tensors: the
// data path of training and evaluation. Audio and visual sequences are padded
// to the longest clip of the batch; the masks mark padding (true = padded) so
// that models can keep padding out of attention and pooling.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "store/feature_store.h"

namespace avctl {

struct Batch {
  torch::Tensor audio;         // [B, Ta, Da] float32, z-normalised, 0 in padding
  torch::Tensor audio_pad;     // [B, Ta] bool, true where padded
  torch::Tensor audio_len;     // [B] int64
  torch::Tensor visual;        // [B, Tv, Dv] float32, z-normalised, 0 in padding
  torch::Tensor visual_pad;    // [B, Tv] bool
  torch::Tensor visual_len;    // [B] int64
  torch::Tensor labels;        // [B] int64 hard labels
  torch::Tensor soft;          // [B, 6] float32 soft labels
};

class StoreBatches {
 public:
  // Normalises with `partition`'s Train statistics.
  static Result<StoreBatches> Create(const FeatureStore* store, int partition);

  // Builds the batch of the given clips (indices into the store) on the CPU.
  Result<Batch> Make(const std::vector<size_t>& clips) const;

 private:
  StoreBatches(const FeatureStore* store, NormStatsView stats) : store_(store), stats_(stats) {}

  const FeatureStore* store_;
  NormStatsView stats_;
};

}  // namespace avctl
