#include "worker/transformer.h"

#include <cmath>

#include "worker/dropout.h"

namespace avctl {

torch::Tensor SinusoidalPositions(int64_t max_len, int64_t d) {
  // Scalar std::sin/std::cos per element, so that row p does not depend on
  // how many rows the table has (the cache below grows it).
  const int64_t half = d / 2;
  const double step = std::log(10000.0) / static_cast<double>(std::max<int64_t>(half - 1, 1));
  torch::Tensor table = torch::zeros({max_len, d}, torch::kFloat32);
  float* out = table.data_ptr<float>();
  for (int64_t p = 0; p < max_len; ++p) {
    for (int64_t i = 0; i < half; ++i) {
      const double angle = static_cast<double>(p + 1) * std::exp(static_cast<double>(i) * -step);
      out[p * d + i] = static_cast<float>(std::sin(angle));
      out[p * d + half + i] = static_cast<float>(std::cos(angle));
    }
  }
  return table;
}

namespace {

// LayerNorm inputs in float32: CUDA autocast casts them so itself, CPU
// autocast in libtorch 1.13 does not and then fails on bf16 input with
// float32 weights. Without autocast this is the tensor itself.
torch::Tensor Float32(const torch::Tensor& x) { return x.to(torch::kFloat32); }

}  // namespace

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
                                            const torch::Tensor& kv_pad, const torch::Tensor& attn_mask) {
  auto gate = [&](const torch::Tensor& residual, const torch::Tensor& branch) {
    return o_.gated_residual ? residual * alpha_ + branch * (1 - alpha_) : residual + branch;
  };
  torch::Tensor q = ln0_(Float32(x));
  // The same LayerNorm normalises queries, keys and values (as AuxFormer does).
  torch::Tensor k = kv.defined() ? ln0_(Float32(kv)) : q;
  torch::Tensor h = Dropout(attn_(q, k, kv_pad, attn_mask), o_.res_dropout, is_training());
  torch::Tensor y = gate(x, h);
  h = Dropout(torch::relu(fc1_(ln1_(Float32(y)))), o_.relu_dropout, is_training());
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
    torch::Tensor table = Positions(x.size(0), x.device(), x.scalar_type());  // [T, d]
    // Padding gets no position (it is masked anyway).
    e = e + table.unsqueeze(1) * pad.logical_not().transpose(0, 1).unsqueeze(-1).to(x.scalar_type());
  }
  return Dropout(e, o_.embed_dropout, is_training());
}

torch::Tensor TransformerEncoderImpl::Positions(int64_t length, const torch::Device& device, torch::ScalarType dtype) {
  for (auto& t : positions_) {
    if (t.device() != device || t.scalar_type() != dtype) continue;
    if (t.size(0) < length) t = SinusoidalPositions(std::max(length, 2 * t.size(0)), o_.d).to(device, dtype);
    return t.narrow(0, 0, length);
  }
  positions_.push_back(SinusoidalPositions(std::max<int64_t>(length, 512), o_.d).to(device, dtype));
  return positions_.back().narrow(0, 0, length);
}

torch::Tensor TransformerEncoderImpl::forward(const torch::Tensor& x, const torch::Tensor& x_pad,
                                              const torch::Tensor& kv, const torch::Tensor& kv_pad) {
  torch::Tensor h = Embed(x, x_pad);
  torch::Tensor k = kv.defined() ? Embed(kv, kv_pad) : torch::Tensor();
  const torch::Tensor& k_pad = kv.defined() ? kv_pad : x_pad;
  // The future mask depends only on the lengths: built once for all layers.
  const torch::Tensor mask =
      o_.future_mask ? FutureMask(x.size(0), kv.defined() ? kv.size(0) : x.size(0), x_pad, k_pad, x.size(1), x.options())
                     : torch::Tensor();
  for (const auto& layer : *layers_) h = layer->as<TransformerLayer>()->forward(h, k, k_pad, mask);
  return final_ln_(Float32(h));
}

torch::Tensor PoolLast(const torch::Tensor& x, const torch::Tensor& pad) {
  // A one-hot selection over time instead of a gather: the same values (one
  // term of each sum is not zero), and a backward pass that is a product,
  // where gather's scatter-add uses atomics on CUDA (not deterministic).
  auto lengths = pad.logical_not().sum(1);                           // [B]
  auto last = (lengths - 1).clamp_min(0);                            // [B]
  auto steps = torch::arange(x.size(0), lengths.options()).unsqueeze(1);  // [T, 1]
  auto pick = steps.eq(last.unsqueeze(0)).unsqueeze(-1).to(x.scalar_type());  // [T, B, 1]
  return (x * pick).sum(0);                                          // [B, d]
}

torch::Tensor PoolMean(const torch::Tensor& x, const torch::Tensor& pad) {
  auto keep = pad.logical_not().transpose(0, 1).unsqueeze(-1).to(x.scalar_type());  // [T, B, 1]
  return (x * keep).sum(0) / keep.sum(0).clamp_min(1.0);
}

}  // namespace avctl
