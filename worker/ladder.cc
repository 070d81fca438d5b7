#include "worker/ladder.h"

#include <string>

namespace avctl {

torch::Tensor BatchNormalize(const torch::Tensor& x) {
  auto mean = x.mean(0, /*keepdim=*/true);
  auto var = x.var(0, /*unbiased=*/false, /*keepdim=*/true);
  return (x - mean) / torch::sqrt(var + kBatchNormEps);
}

LadderEncoderImpl::LadderEncoderImpl(std::vector<int64_t> widths, double momentum)
    : widths_(std::move(widths)), momentum_(momentum) {
  const size_t L = widths_.size() - 1;
  for (size_t l = 1; l <= L; ++l) {
    const std::string n = std::to_string(l);
    w_.push_back(register_module("w" + n, torch::nn::Linear(torch::nn::LinearOptions(widths_[l - 1], widths_[l]).bias(false))));
    beta_.push_back(register_parameter("beta" + n, torch::zeros({widths_[l]})));
    running_mean_.push_back(register_buffer("running_mean" + n, torch::zeros({widths_[l]})));
    running_var_.push_back(register_buffer("running_var" + n, torch::ones({widths_[l]})));
  }
  gamma_ = register_parameter("gamma", torch::ones({widths_.back()}));
}

LadderPass LadderEncoderImpl::forward(const torch::Tensor& x, double noise_std) {
  const size_t L = widths_.size() - 1;
  auto noisy = [&](const torch::Tensor& t) { return noise_std > 0 ? t + noise_std * torch::randn_like(t) : t; };
  LadderPass p;
  const torch::Tensor x32 = x.to(torch::kFloat32);
  p.z.push_back(noisy(x32));
  if (is_training()) {
    p.mean.push_back(x32.mean(0));
    p.std.push_back(torch::sqrt(x32.var(0, /*unbiased=*/false) + kBatchNormEps));
  } else {
    p.mean.emplace_back();
    p.std.emplace_back();
  }
  torch::Tensor h = p.z[0];
  for (size_t l = 1; l <= L; ++l) {
    // float32 from here on also under bf16 autocast: the batch statistics,
    // the noise and (in the decoder) the costs are not computed in bf16.
    torch::Tensor pre = w_[l - 1](h).to(torch::kFloat32);
    torch::Tensor mean, var;
    if (is_training()) {
      mean = pre.mean(0);
      var = pre.var(0, /*unbiased=*/false);
      if (noise_std == 0) {
        torch::NoGradGuard no_grad;
        running_mean_[l - 1].mul_(1 - momentum_).add_(mean.detach(), momentum_);
        running_var_[l - 1].mul_(1 - momentum_).add_(var.detach(), momentum_);
      }
    } else {
      mean = running_mean_[l - 1];
      var = running_var_[l - 1];
    }
    torch::Tensor sd = torch::sqrt(var + kBatchNormEps);
    torch::Tensor z = noisy((pre - mean) / sd);
    p.z.push_back(z);
    p.mean.push_back(mean);
    p.std.push_back(sd);
    h = (l < L) ? torch::relu(z + beta_[l - 1]) : gamma_ * (z + beta_[l - 1]);
  }
  p.logits = h;
  return p;
}

CombinatorImpl::CombinatorImpl(int64_t width) {
  for (int i = 1; i <= 10; ++i) {
    const double init = (i == 2 || i == 7) ? 1.0 : 0.0;
    a_.push_back(register_parameter("a" + std::to_string(i), torch::full({width}, init)));
  }
}

torch::Tensor CombinatorImpl::forward(const torch::Tensor& z_tilde, const torch::Tensor& u) {
  auto mu = a_[0] * torch::sigmoid(a_[1] * u + a_[2]) + a_[3] * u + a_[4];
  auto v = a_[5] * torch::sigmoid(a_[6] * u + a_[7]) + a_[8] * u + a_[9];
  return (z_tilde - mu) * v + mu;
}

LadderDecoderImpl::LadderDecoderImpl(std::vector<int64_t> widths) : widths_(std::move(widths)) {
  const size_t L = widths_.size() - 1;
  for (size_t l = 0; l < L; ++l) {
    v_.push_back(register_module("v" + std::to_string(l),
                                 torch::nn::Linear(torch::nn::LinearOptions(widths_[l + 1], widths_[l]).bias(false))));
  }
  for (size_t l = 0; l <= L; ++l) g_.push_back(register_module("g" + std::to_string(l), Combinator(widths_[l])));
}

std::vector<torch::Tensor> LadderDecoderImpl::forward(const torch::Tensor& top, const LadderPass& lateral,
                                                      const LadderPass& clean, bool normalize_layer0) {
  const size_t L = widths_.size() - 1;
  std::vector<torch::Tensor> costs(L + 1);
  torch::Tensor z_hat;
  for (size_t l = L + 1; l-- > 0;) {
    torch::Tensor u = (l == L) ? BatchNormalize(top.to(torch::kFloat32))
                               : BatchNormalize(v_[l](z_hat).to(torch::kFloat32));
    z_hat = g_[l](lateral.z[l], u);
    torch::Tensor estimate, target;
    if (l > 0) {
      estimate = (z_hat - clean.mean[l]) / clean.std[l];
      target = clean.z[l];
    } else if (normalize_layer0) {
      estimate = (z_hat - clean.mean[0]) / clean.std[0];
      target = (clean.z[0] - clean.mean[0]) / clean.std[0];
    } else {
      estimate = z_hat;
      target = clean.z[0];
    }
    costs[l] = (estimate - target).pow(2).sum(1).mean() / static_cast<double>(widths_[l]);
  }
  return costs;
}

}  // namespace avctl
