// Transformer encoders as AuxFormer (and MulT before it) build them:
// pre-LayerNorm layers, inputs scaled by sqrt(d), FFN d -> 4d -> d, a final
// LayerNorm, sinusoidal positions where asked, and cross-modal attention in
// which the queries come from one modality and the keys/values from the
// other. Padding never leaks: key-padding masks hide padded keys, and
// padded query positions are dropped by the pooling that follows.
// Sequences are [T, B, d] (time first), masks [B, T] with true = padding.
#pragma once

#include <torch/torch.h>

#include "worker/attention.h"

namespace avctl {

struct EncoderOptions {
  int64_t d = 130;
  int64_t heads = 10;
  int64_t layers = 5;
  double attn_dropout = 0.1;
  double relu_dropout = 0.1;
  double res_dropout = 0.1;
  double embed_dropout = 0.25;
  bool positions = false;       // add sinusoidal positions to the inputs
  bool gated_residual = false;  // AuxFormer's learned gate: residual * a + branch * (1 - a)
  bool future_mask = false;     // MulT's attn_mask (worker/attention.h)
};

// Sinusoidal position table [max_len, d] float32 (fairseq's layout: sines
// then cosines; row p is position p, counted from 1 for the first frame).
torch::Tensor SinusoidalPositions(int64_t max_len, int64_t d);

class TransformerLayerImpl : public torch::nn::Module {
 public:
  explicit TransformerLayerImpl(const EncoderOptions& o);
  // kv undefined: self-attention. kv_pad masks the keys; attn_mask is an
  // additive [B, 1, T, S] mask (FutureMask) or undefined.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& kv, const torch::Tensor& kv_pad,
                        const torch::Tensor& attn_mask = {});

 private:
  EncoderOptions o_;
  Attention attn_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
  torch::nn::LayerNorm ln0_{nullptr}, ln1_{nullptr};
  torch::Tensor alpha_;
};
TORCH_MODULE(TransformerLayer);

class TransformerEncoderImpl : public torch::nn::Module {
 public:
  explicit TransformerEncoderImpl(const EncoderOptions& o);
  // x [T, B, d] with x_pad [B, T]; for cross-modal attention kv [S, B, d] with kv_pad [B, S].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& x_pad, const torch::Tensor& kv = {},
                        const torch::Tensor& kv_pad = {});

 private:
  torch::Tensor Embed(const torch::Tensor& x, const torch::Tensor& pad);
  // The first `length` rows of a table kept per device and dtype (built on
  // the host once, not on every call).
  torch::Tensor Positions(int64_t length, const torch::Device& device, torch::ScalarType dtype);

  EncoderOptions o_;
  std::vector<torch::Tensor> positions_;  // one per (device, dtype), not registered: derived, never saved
  torch::nn::ModuleList layers_;
  torch::nn::LayerNorm final_ln_{nullptr};
};
TORCH_MODULE(TransformerEncoder);

// [T, B, d] -> [B, d]: the last real frame of each sequence, or the mean over real frames.
torch::Tensor PoolLast(const torch::Tensor& x, const torch::Tensor& pad);
torch::Tensor PoolMean(const torch::Tensor& x, const torch::Tensor& pad);

}  // namespace avctl
