#include "worker/train_run.h"

namespace avctl::training {

Snapshot Save(torch::nn::Module& m) {
  torch::NoGradGuard g;
  Snapshot s;
  for (auto& p : m.parameters()) s.params.push_back(p.detach().clone());
  for (auto& b : m.buffers()) s.buffers.push_back(b.detach().clone());
  return s;
}

void Restore(torch::nn::Module& m, const Snapshot& s) {
  torch::NoGradGuard g;
  auto params = m.parameters();
  auto buffers = m.buffers();
  for (size_t i = 0; i < params.size(); ++i) params[i].copy_(s.params[i]);
  for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(s.buffers[i]);
}

void EpochSums::Add(int64_t batch, const torch::Tensor& total, const torch::Tensor& supervised,
        const torch::Tensor& unsupervised, const std::map<std::string, torch::Tensor>& step_costs, int64_t clips) {
  torch::NoGradGuard no_grad;
  const auto n = static_cast<double>(clips);
  torch::Tensor t = total.detach().to(torch::kFloat64);
  loss += t * n;
  sup += supervised.detach().to(torch::kFloat64) * n;
  uns += unsupervised.detach().to(torch::kFloat64) * n;
  for (const auto& [name, v] : step_costs) {
    torch::Tensor weighted = v.detach().to(torch::kFloat64) * n;
    auto it = costs.find(name);
    if (it == costs.end()) costs.emplace(name, weighted);
    else it->second += weighted;
  }
  // The first batch (counted from 1) whose loss is not finite, and that loss.
  torch::Tensor bad = t.isfinite().logical_not().logical_and(first_bad == 0);
  first_bad = torch::where(bad, torch::full_like(first_bad, batch), first_bad);
  bad_value = torch::where(bad, t, bad_value);
}

}  // namespace avctl::training
