// Multi-head attention with a key-padding mask, the parameters and the
// arithmetic of torch::nn::MultiheadAttention (in_proj_weight [3d, d],
// in_proj_bias [3d], out_proj; softmax(q k^T / sqrt(d / heads)) v), written
// out so that
//  - the padding mask is added inside the score GEMM (baddbmm with a
//    broadcast [B*heads, 1, S] additive mask) instead of a masked_fill pass
//    over the [B*heads, T, S] scores, and
//  - the attention dropout is avctl::Dropout (worker/dropout.h), not the
//    single-threaded Bernoulli draw of ATen's CPU dropout.
// With dropout off it computes what torch::nn::MultiheadAttention computes
// (tested to float rounding in tests/worker/attention_test.cc).
// Sequences are [T, B, d] (time first), the mask [B, S] with true = padding.
// An additive attention mask (FutureMask) can be given on top; it is added
// to the scores in place, broadcast over the heads.
#pragma once

#include <torch/torch.h>

namespace avctl {

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t d, int64_t heads, double dropout);
  // query [T, B, d]; key_value [S, B, d] (the same tensor as query for
  // self-attention); key_pad [B, S] or undefined; attn_mask [B, 1, T, S]
  // additive (0 or -inf) or undefined. Returns [T, B, d].
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& key_value, const torch::Tensor& key_pad,
                        const torch::Tensor& attn_mask = {});

  torch::Tensor in_proj_weight, in_proj_bias;
  torch::nn::Linear out_proj{nullptr};

 private:
  int64_t d_, heads_;
  double dropout_;
};
TORCH_MODULE(Attention);

// MulT's buffered_future_mask (its default attn_mask, and AuxFormer's):
// triu(-inf, 1 + |S - T|), i.e. query i sees only keys j <= i + |S - T|.
// MulT sizes it from its fixed padded lengths; here T and S are each clip's
// own lengths (from the pads; undefined pad: the full length), so that a
// clip's output never depends on how long its batch-mates are. Key 0 stays
// visible, so no row is all -inf. Returns [B, 1, T, S], 0 or -inf, in
// `options`' dtype and device; one mask serves every layer of an encoder.
torch::Tensor FutureMask(int64_t t, int64_t s, const torch::Tensor& query_pad, const torch::Tensor& key_pad, int64_t b,
                         const torch::TensorOptions& options);

}  // namespace avctl
