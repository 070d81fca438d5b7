// Ladder networks (Rasmus et al., NeurIPS 2015) as avctl applies them across
// modalities. A LadderEncoder is an MLP whose layers are
//   z_pre = W h;  z = BN(z_pre) (no affine) [+ noise];  h = relu(z + beta)
// (the top layer outputs gamma * (z + beta) as logits). It runs twice per
// step: clean, and corrupted with Gaussian noise at the input and after every
// normalisation. A LadderDecoder goes top-down, combining a lateral from a
// corrupted encoder with the signal from above through Rasmus's per-unit
// combinator g, and is scored against a clean encoder's normalised
// pre-activations. Which encoders give the laterals, the top-down signal and
// the targets is the caller's choice: that is how cross-modal ladders are
// wired.
//
// Under bf16 autocast only the linear maps run in bf16: every batch
// statistic, normalisation, combinator and reconstruction cost is float32.
#pragma once

#include <vector>

#include <torch/torch.h>

namespace avctl {

inline constexpr double kBatchNormEps = 1e-5;

// What one pass of a ladder encoder leaves for the decoders.
struct LadderPass {
  std::vector<torch::Tensor> z;     // z[0] = input (noisy when corrupted); z[l] = normalised pre-activation (+ noise)
  std::vector<torch::Tensor> mean;  // batch mean of z_pre per layer; [0]: of the (clean) input, in training
  std::vector<torch::Tensor> std;   // batch std of z_pre per layer; [0]: of the (clean) input, in training
  torch::Tensor logits;             // top output
};

class LadderEncoderImpl : public torch::nn::Module {
 public:
  // widths: input first, classes last, e.g. {130, 512, 256, 130, 6}.
  explicit LadderEncoderImpl(std::vector<int64_t> widths, double momentum = 0.1);
  // noise_std = 0: the clean pass. In training the batch statistics
  // normalise (the clean pass also updates the running ones); in eval the
  // running statistics do.
  LadderPass forward(const torch::Tensor& x, double noise_std);
  const std::vector<int64_t>& widths() const { return widths_; }

 private:
  std::vector<int64_t> widths_;
  double momentum_;
  std::vector<torch::nn::Linear> w_;
  std::vector<torch::Tensor> beta_;
  torch::Tensor gamma_;
  std::vector<torch::Tensor> running_mean_, running_var_;
};
TORCH_MODULE(LadderEncoder);

// Rasmus's vanilla combinator, ten parameters per unit:
//   mu(u) = a1 sigm(a2 u + a3) + a4 u + a5,  v(u) = a6 sigm(a7 u + a8) + a9 u + a10
//   z_hat = (z_tilde - mu(u)) * v(u) + mu(u)
// initialised with a2 = a7 = 1 and the rest 0.
class CombinatorImpl : public torch::nn::Module {
 public:
  explicit CombinatorImpl(int64_t width);
  torch::Tensor forward(const torch::Tensor& z_tilde, const torch::Tensor& u);
  torch::Tensor a(int i) { return a_[i - 1]; }  // 1-based, as in the paper

 private:
  std::vector<torch::Tensor> a_;
};
TORCH_MODULE(Combinator);

// Batch normalisation without affine parameters using the batch's own statistics.
torch::Tensor BatchNormalize(const torch::Tensor& x);

class LadderDecoderImpl : public torch::nn::Module {
 public:
  explicit LadderDecoderImpl(std::vector<int64_t> widths);
  // Per-layer reconstruction costs C(l), l = 0..L: squared error between the
  // decoder's estimate (normalised with the clean batch statistics) and the
  // clean target, summed over units, divided by the width, averaged over the
  // batch. At layer 0 both are normalised with the clean input's batch
  // statistics when normalize_layer0, else compared as they are.
  std::vector<torch::Tensor> forward(const torch::Tensor& top, const LadderPass& lateral, const LadderPass& clean,
                                     bool normalize_layer0 = false);

 private:
  std::vector<int64_t> widths_;
  std::vector<torch::nn::Linear> v_;  // v_[l] maps layer l+1 to layer l
  std::vector<Combinator> g_;
};
TORCH_MODULE(LadderDecoder);

}  // namespace avctl
