#include "worker/attention.h"

#include <cmath>
#include <limits>

#include "worker/dropout.h"

namespace avctl {

AttentionImpl::AttentionImpl(int64_t d, int64_t heads, double dropout) : d_(d), heads_(heads), dropout_(dropout) {
  TORCH_CHECK(heads > 0 && d % heads == 0, "attention: d (", d, ") must be a multiple of heads (", heads, ")");
  // Registered and initialised in torch::nn::MultiheadAttention's order, so a
  // seed gives the same initial weights as the module this one replaces.
  in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * d, d}));
  in_proj_bias = register_parameter("in_proj_bias", torch::empty({3 * d}));
  out_proj = register_module("out_proj", torch::nn::Linear(d, d));
  torch::nn::init::xavier_uniform_(in_proj_weight);
  torch::nn::init::constant_(in_proj_bias, 0.0);
  torch::nn::init::constant_(out_proj->bias, 0.0);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& query, const torch::Tensor& key_value,
                                     const torch::Tensor& key_pad, const torch::Tensor& attn_mask) {
  namespace F = torch::nn::functional;
  const int64_t t = query.size(0), b = query.size(1), s = key_value.size(0);
  const int64_t hd = d_ / heads_;
  torch::Tensor q, k, v;
  if (key_value.is_same(query)) {
    auto qkv = F::linear(query, in_proj_weight, in_proj_bias).chunk(3, -1);
    q = qkv[0], k = qkv[1], v = qkv[2];
  } else {
    q = F::linear(query, in_proj_weight.slice(0, 0, d_), in_proj_bias.slice(0, 0, d_));
    auto kv = F::linear(key_value, in_proj_weight.slice(0, d_), in_proj_bias.slice(0, d_)).chunk(2, -1);
    k = kv[0], v = kv[1];
  }
  // [T, B, d] -> [B*heads, T, hd]
  auto heads = [&](const torch::Tensor& x, int64_t len) {
    return x.contiguous().view({len, b * heads_, hd}).transpose(0, 1);
  };
  q = heads(q, t), k = heads(k, s), v = heads(v, s);
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  const double inf = std::numeric_limits<double>::infinity();
  torch::Tensor scores;
  if (key_pad.defined()) {
    auto mask = torch::zeros({b, 1, 1, s}, query.options())
                    .masked_fill(key_pad.view({b, 1, 1, s}), -inf)
                    .expand({b, heads_, 1, s})
                    .reshape({b * heads_, 1, s});
    scores = torch::baddbmm(mask, q, k.transpose(1, 2), /*beta=*/1.0, /*alpha=*/scale);
  } else {
    scores = torch::bmm(q, k.transpose(1, 2)).mul_(scale);
  }
  // In place, broadcast over the heads: no [B*heads, T, S] mask is materialised.
  if (attn_mask.defined()) scores.view({b, heads_, t, s}).add_(attn_mask);
  torch::Tensor probs = Dropout(torch::softmax(scores, -1), dropout_, is_training());
  torch::Tensor out = torch::bmm(probs, v).transpose(0, 1).contiguous().view({t, b, d_});
  return out_proj(out);
}

torch::Tensor FutureMask(int64_t t, int64_t s, const torch::Tensor& query_pad, const torch::Tensor& key_pad, int64_t b,
                         const torch::TensorOptions& options) {
  auto opts = torch::TensorOptions().dtype(torch::kLong).device(options.device());
  torch::Tensor q_len = query_pad.defined() ? query_pad.logical_not().sum(1) : torch::full({b}, t, opts);
  torch::Tensor k_len = key_pad.defined() ? key_pad.logical_not().sum(1) : torch::full({b}, s, opts);
  torch::Tensor offset = (k_len - q_len).abs().view({b, 1, 1});
  torch::Tensor hidden = torch::arange(s, opts).view({1, 1, s}) > torch::arange(t, opts).view({1, t, 1}) + offset;
  return torch::zeros({b, 1, t, s}, options).masked_fill_(hidden.unsqueeze(1), -std::numeric_limits<double>::infinity());
}

}  // namespace avctl
