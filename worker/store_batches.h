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

// How a batch is laid out in host memory. The CPU path wants finished
// float32 tensors; the GPU path wants page-locked buffers (so that copies
// run asynchronously) and the video as the store's float16 values, half the
// bytes over PCIe, converted and normalised on the device (NormalizeVisual).
struct BatchLayout {
  bool pinned = false;       // page-locked host memory (needs a CUDA build with a device)
  bool visual_half = false;  // Batch::visual holds the raw float16 values, not normalised
};

struct Batch {
  torch::Tensor audio;         // [B, Ta, Da] float32, z-normalised, 0 in padding
  torch::Tensor audio_pad;     // [B, Ta] bool, true where padded
  torch::Tensor audio_len;     // [B] int64
  torch::Tensor visual;        // [B, Tv, Dv] float32, z-normalised, 0 in padding
                               // (BatchLayout::visual_half: float16 store values, 0 in padding)
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
  Result<Batch> Make(const std::vector<size_t>& clips, const BatchLayout& layout = {}) const;

  // The visual normalisation as float32 tensors [Dv] on the CPU: mean and 1 / std.
  torch::Tensor VisualMean() const;
  torch::Tensor VisualInvStd() const;

 private:
  StoreBatches(const FeatureStore* store, NormStatsView stats) : store_(store), stats_(stats) {}

  const FeatureStore* store_;
  NormStatsView stats_;
};

// The device half of BatchLayout::visual_half: (float(v) - mean) * inv_std,
// 0 in padding; bit-identical to the float32 batch Make builds on the host
// (the same two float32 operations, each exactly rounded).
torch::Tensor NormalizeVisual(const torch::Tensor& visual_half, const torch::Tensor& visual_pad,
                              const torch::Tensor& mean, const torch::Tensor& inv_std);

}  // namespace avctl
