// The optimiser step without host read-backs: Adam over every parameter with
// ATen's multi-tensor (_foreach_*) kernels, and gradient-norm clipping whose
// norm and scale stay on the device.
//
// Why not torch::optim::Adam: it updates one parameter tensor at a time
// (about a dozen kernels each), and the ladder heads alone hold some 140
// small tensors (the combinators' per-unit vectors), so a GPU step was a
// few thousand tiny launches. On CUDA the _foreach_* ops launch one kernel
// per op for a whole list of tensors; on CPU they loop over the same per-
// tensor ops, so the update is bit-identical to torch::optim::Adam's there
// (tests/worker/optimizer_test.cc checks it over several steps).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"

namespace avctl {

struct AdamSettings {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;  // torch::optim::AdamOptions' defaults
  double eps = 1e-8;
};

// Adam (Kingma & Ba) as torch::optim::Adam computes it without weight decay
// or amsgrad: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
// Parameters without a gradient in a step are skipped in that step, as
// torch's Adam skips them.
class MultiTensorAdam {
 public:
  MultiTensorAdam(std::vector<torch::Tensor> params, AdamSettings settings);

  void ZeroGrad();  // sets the gradients to zero in place (no reallocation)
  void Step();

  double lr() const { return s_.lr; }
  void set_lr(double lr) { s_.lr = lr; }
  int64_t steps() const { return step_; }

  // The moments, one per parameter (undefined until its first update), for
  // checkpoints and tests.
  const std::vector<torch::Tensor>& exp_avg() const { return m_; }
  const std::vector<torch::Tensor>& exp_avg_sq() const { return v_; }
  const std::vector<int64_t>& param_steps() const { return t_; }

  // Continues from a checkpoint's moments and step counts (as read from the
  // accessors above; undefined moments for parameters never updated). The
  // gradients of updated parameters are set to zeros, as ZeroGrad leaves
  // them, so the next backward pass accumulates into them as it would have.
  // InvalidArgument when the shapes do not match this optimiser's parameters.
  Status Restore(int64_t steps, std::vector<torch::Tensor> exp_avg, std::vector<torch::Tensor> exp_avg_sq,
                 std::vector<int64_t> param_steps);

 private:
  std::vector<torch::Tensor> params_;
  AdamSettings s_;
  int64_t step_ = 0;
  std::vector<torch::Tensor> m_, v_;
  std::vector<int64_t> t_;  // per-parameter step count (parameters without a gradient do not advance)
};

// Scales the gradients of `params` so that their joint 2-norm is at most
// max_norm (coefficient max_norm / (norm + 1e-6) clamped to 1, as
// torch::nn::utils::clip_grad_norm_), and returns the norm before clipping
// as a 0-dim tensor on the gradients' device: nothing is read back.
torch::Tensor ClipGradNorm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace avctl
