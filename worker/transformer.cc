#include "worker/transformer.h"

#include <cmath>

#include "worker/dropout.h"

namespace avctl {

torch::Tensor SinusoidalPositions(int64_t max_len, int64_t d) {
  const int64_t half = d / 2;
  const double step = std::log(10000.0) / static_cast<double>(std::max<int64_t>(half - 1, 1));
  auto freq = torch::exp(torch::arange(half, torch::kFloat64) * -step);
  auto pos = torch::arange(1, max_len + 1, torch::kFloat64).unsqueeze(1);
  auto angles = pos * freq.unsqueeze(0);
  auto table = torch::cat({torch::sin(angles), torch::cos(angles)}, 1);
  if (d % 2 == 1) table = torch::cat({table, torch::zeros({max_len, 1}, torch::kFloat64)}, 1);
  return table.to(torch::kFloat32);
}

TransformerLayerImpl::TransformerLayerImpl(const EncoderOptions& o) : o_(o) {
  attn_ = register_module("attn", Attention(o.d, o.heads, o.attn_dropout));
  fc1_ = register_module("fc1", torch::nn::Linear(o.d, 4 * o.d));
  fc2_ = register_module("fc2", torch::nn::Linear(4 * o.d, o.d));
  for (auto* fc : {&fc1_, &fc2_}) {
    torch::nn::init::xavier_uniform_((*fc)->weight);
    torch::nn::init::zeros_((*fc)->bias);
  }
  ln0_ = register_module("ln0", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d})));
  ln1_ = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d})));
  if (o.gated_residual) alpha_ = register_parameter("alpha", torch::rand({1}));
}

torch::Tensor TransformerLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& kv,
                                            const torch::Tensor& kv_pad) {
  auto gate = [&](const torch::Tensor& residual, const torch::Tensor& branch) {
    return o_.gated_residual ? residual * alpha_ + branch * (1 - alpha_) : residual + branch;
  };
  torch::Tensor q = ln0_(x);
  // The same LayerNorm normalises queries, keys and values (as AuxFormer does).
  torch::Tensor k = kv.defined() ? ln0_(kv) : q;
  torch::Tensor h = Dropout(attn_(q, k, kv_pad), o_.res_dropout, is_training());
  torch::Tensor y = gate(x, h);
  h = Dropout(torch::relu(fc1_(ln1_(y))), o_.relu_dropout, is_training());
  h = Dropout(fc2_(h), o_.res_dropout, is_training());
  return gate(y, h);
}

TransformerEncoderImpl::TransformerEncoderImpl(const EncoderOptions& o) : o_(o) {
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.layers; ++i) layers_->push_back(TransformerLayer(o));
  final_ln_ = register_module("final_ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d})));
}

torch::Tensor TransformerEncoderImpl::Embed(const torch::Tensor& x, const torch::Tensor& pad) {
  torch::Tensor e = x * std::sqrt(static_cast<double>(o_.d));
  if (o_.positions) {
    auto table = SinusoidalPositions(x.size(0), o_.d).to(x.device(), x.scalar_type());  // [T, d]
    // Padding gets no position (it is masked anyway).
    e = e + table.unsqueeze(1) * pad.logical_not().transpose(0, 1).unsqueeze(-1).to(x.scalar_type());
  }
  return Dropout(e, o_.embed_dropout, is_training());
}

torch::Tensor TransformerEncoderImpl::forward(const torch::Tensor& x, const torch::Tensor& x_pad,
                                              const torch::Tensor& kv, const torch::Tensor& kv_pad) {
  torch::Tensor h = Embed(x, x_pad);
  torch::Tensor k = kv.defined() ? Embed(kv, kv_pad) : torch::Tensor();
  const torch::Tensor& k_pad = kv.defined() ? kv_pad : x_pad;
  for (const auto& layer : *layers_) h = layer->as<TransformerLayer>()->forward(h, k, k_pad);
  return final_ln_(h);
}

torch::Tensor PoolLast(const torch::Tensor& x, const torch::Tensor& pad) {
  auto lengths = pad.logical_not().sum(1);                       // [B]
  auto index = (lengths - 1).clamp_min(0).view({1, -1, 1}).expand({1, x.size(1), x.size(2)});
  return x.gather(0, index).squeeze(0);                          // [B, d]
}

torch::Tensor PoolMean(const torch::Tensor& x, const torch::Tensor& pad) {
  auto keep = pad.logical_not().transpose(0, 1).unsqueeze(-1).to(x.scalar_type());  // [T, B, 1]
  return (x * keep).sum(0) / keep.sum(0).clamp_min(1.0);
}

}  // namespace avctl
