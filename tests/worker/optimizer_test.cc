#include "worker/optimizer.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

// Parameters of several shapes, including the small vectors the ladders hold.
std::vector<torch::Tensor> MakeParams(uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> p;
  for (auto shape : std::vector<std::vector<int64_t>>{{7, 5}, {5}, {130}, {3, 4, 2}, {1}}) {
    p.push_back(torch::randn(shape).requires_grad_(true));
  }
  return p;
}

void SetGrads(std::vector<torch::Tensor>& params, uint64_t step, bool skip_one) {
  torch::manual_seed(1000 + step);
  for (size_t i = 0; i < params.size(); ++i) {
    torch::Tensor g = torch::randn(params[i].sizes()) * (0.1 * static_cast<double>(i + 1));
    if (skip_one && i == 2) {
      params[i].mutable_grad() = torch::Tensor();  // no gradient this step: torch's Adam skips it
    } else {
      params[i].mutable_grad() = g;
    }
  }
}

TEST(MultiTensorAdamTest, EqualsTorchAdamBitForBitOverSeveralSteps) {
  auto ours = MakeParams(3);
  auto theirs = MakeParams(3);
  AdamSettings s;
  s.lr = 7.25e-4;
  MultiTensorAdam adam(ours, s);
  torch::optim::Adam reference(theirs, torch::optim::AdamOptions(s.lr));
  for (int step = 1; step <= 8; ++step) {
    const bool skip = step == 3 || step == 4;  // a parameter falls one and then two steps behind
    SetGrads(ours, step, skip);
    SetGrads(theirs, step, skip);
    if (step == 6) {  // the plateau schedule lowers the rate
      adam.set_lr(s.lr * 0.1);
      for (auto& group : reference.param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(s.lr * 0.1);
      }
    }
    adam.Step();
    reference.step();
    for (size_t i = 0; i < ours.size(); ++i) {
      ASSERT_TRUE(torch::equal(ours[i], theirs[i])) << "parameter " << i << " after step " << step;
    }
  }
  EXPECT_EQ(adam.steps(), 8);
  EXPECT_EQ(adam.param_steps()[2], 6);
  EXPECT_EQ(adam.param_steps()[0], 8);
}

TEST(MultiTensorAdamTest, ZeroGradKeepsTheBuffers) {
  auto p = MakeParams(4);
  MultiTensorAdam adam(p, {});
  SetGrads(p, 1, false);
  void* before = p[0].grad().data_ptr();
  adam.ZeroGrad();
  EXPECT_EQ(p[0].grad().data_ptr(), before);
  for (const auto& t : p) EXPECT_EQ(t.grad().abs().sum().item<double>(), 0.0);
}

TEST(ClipGradNormTest, EqualsTorchsClippingAndReadsNothingBack) {
  for (double max_norm : {0.8, 1e3}) {  // clipping, and a norm below the limit (coefficient clamped to 1)
    auto ours = MakeParams(5);
    auto theirs = MakeParams(5);
    SetGrads(ours, 2, false);
    SetGrads(theirs, 2, false);
    torch::Tensor norm = ClipGradNorm(ours, max_norm);
    const double reference = torch::nn::utils::clip_grad_norm_(theirs, max_norm);
    EXPECT_EQ(norm.dim(), 0);
    EXPECT_NEAR(norm.item<double>(), reference, 1e-6 * reference);
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_TRUE(torch::allclose(ours[i].grad(), theirs[i].grad(), 1e-6, 1e-9)) << i << " at " << max_norm;
    }
  }
}

}  // namespace
}  // namespace avctl
