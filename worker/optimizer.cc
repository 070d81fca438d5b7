#include "worker/optimizer.h"

#include <cmath>

#include <torch/version.h>

#include <fmt/format.h>

namespace avctl {

MultiTensorAdam::MultiTensorAdam(std::vector<torch::Tensor> params, AdamSettings settings)
    : params_(std::move(params)), s_(settings), m_(params_.size()), v_(params_.size()), t_(params_.size(), 0) {}

Status MultiTensorAdam::Restore(int64_t steps, std::vector<torch::Tensor> exp_avg,
                                std::vector<torch::Tensor> exp_avg_sq, std::vector<int64_t> param_steps) {
  const size_t n = params_.size();
  if (exp_avg.size() != n || exp_avg_sq.size() != n || param_steps.size() != n) {
    return Status::InvalidArgument(fmt::format("optimiser state for {} parameters, the model has {}",
                                               exp_avg.size(), n));
  }
  for (size_t i = 0; i < n; ++i) {
    if (exp_avg[i].defined() != exp_avg_sq[i].defined() ||
        (exp_avg[i].defined() && (exp_avg[i].sizes() != params_[i].sizes() ||
                                  exp_avg_sq[i].sizes() != params_[i].sizes()))) {
      return Status::InvalidArgument(fmt::format("optimiser state of parameter {} does not match its shape", i));
    }
  }
  torch::NoGradGuard no_grad;
  step_ = steps;
  t_ = std::move(param_steps);
  m_.assign(n, torch::Tensor());
  v_.assign(n, torch::Tensor());
  for (size_t i = 0; i < n; ++i) {
    if (!exp_avg[i].defined()) continue;
    m_[i] = exp_avg[i].to(params_[i].options());
    v_[i] = exp_avg_sq[i].to(params_[i].options());
    params_[i].mutable_grad() = torch::zeros_like(params_[i]);
  }
  return Status::OK();
}

void MultiTensorAdam::ZeroGrad() {
  std::vector<torch::Tensor> grads;
  for (auto& p : params_) {
    if (p.grad().defined()) grads.push_back(p.mutable_grad().detach_());
  }
  if (!grads.empty()) at::_foreach_zero_(grads);
}

void MultiTensorAdam::Step() {
  torch::NoGradGuard no_grad;
  ++step_;
  // Parameters are grouped by their own step count so that each group shares
  // its bias corrections (all share one count unless some skipped steps).
  std::vector<size_t> live;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].grad().defined()) continue;
    if (!m_[i].defined()) {
      m_[i] = torch::zeros_like(params_[i], torch::MemoryFormat::Preserve);
      v_[i] = torch::zeros_like(params_[i], torch::MemoryFormat::Preserve);
    }
    ++t_[i];
    live.push_back(i);
  }
  while (!live.empty()) {
    const int64_t t = t_[live.front()];
    std::vector<size_t> rest;
    std::vector<torch::Tensor> p, g, m, v;
    for (size_t i : live) {
      if (t_[i] != t) {
        rest.push_back(i);
        continue;
      }
      p.push_back(params_[i]);
      g.push_back(params_[i].grad());
      m.push_back(m_[i]);
      v.push_back(v_[i]);
    }
    const double bias1 = 1 - std::pow(s_.beta1, static_cast<double>(t));
    const double bias2 = 1 - std::pow(s_.beta2, static_cast<double>(t));
    at::_foreach_mul_(m, s_.beta1);
    at::_foreach_add_(m, g, 1 - s_.beta1);
    at::_foreach_mul_(v, s_.beta2);
    at::_foreach_addcmul_(v, g, g, 1 - s_.beta2);
    std::vector<torch::Tensor> denom = at::_foreach_sqrt(v);
    at::_foreach_div_(denom, std::sqrt(bias2));
    at::_foreach_add_(denom, s_.eps);
    at::_foreach_addcdiv_(p, m, denom, -s_.lr / bias1);
    live = std::move(rest);
  }
}

torch::Tensor ClipGradNorm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return torch::zeros({});
  std::vector<torch::Tensor> norms = at::_foreach_norm(grads, 2);
  torch::Tensor total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2);
  torch::Tensor coef = (max_norm / (total + 1e-6)).clamp_max(1.0);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  at::_foreach_mul_(grads, coef);  // one launch for all gradients (2.1 and later)
#else
  for (auto& g : grads) g.mul_(coef);
#endif
  return total;
}

}  // namespace avctl
