// worker/dropout and worker/attention: the mask's statistics and
// determinism, its gradient, and attention equal to torch's module.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "worker/attention.h"
#include "worker/dropout.h"

namespace avctl {
namespace {

class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(torch::get_num_threads()) { torch::set_num_threads(n); }
  ~ThreadCount() { torch::set_num_threads(saved_); }

 private:
  int saved_;
};

TEST(DropoutTest, OffOutsideTrainingAndAtZero) {
  auto x = torch::randn({64, 8});
  EXPECT_TRUE(Dropout(x, 0.3, /*training=*/false).is_same(x));
  EXPECT_TRUE(Dropout(x, 0.0, /*training=*/true).is_same(x));
  EXPECT_EQ(Dropout(x, 1.0, true).abs().sum().item<double>(), 0.0);
}

TEST(DropoutTest, KeepsOneMinusPAndScalesTheKeptValues) {
  torch::manual_seed(3);
  const int64_t n = 1 << 20;
  auto x = torch::rand({n}) + 0.5;  // no zeros, so a zero in the output means dropped
  for (double p : {0.1, 0.25, 0.5}) {
    auto y = Dropout(x, p, true);
    auto kept = y.ne(0);
    const double frac = kept.to(torch::kFloat64).mean().item<double>();
    const double sd = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(frac, 1 - p, 5 * sd) << "p " << p;
    EXPECT_TRUE(torch::allclose(y.masked_select(kept), x.masked_select(kept) / (1 - p), 1e-6, 0)) << "p " << p;
    // Neighbours are independent: P(both kept) = (1 - p)^2.
    const double both = (kept.slice(0, 0, n - 1) & kept.slice(0, 1, n)).to(torch::kFloat64).mean().item<double>();
    EXPECT_NEAR(both, (1 - p) * (1 - p), 6 * sd) << "p " << p;
  }
}

TEST(DropoutTest, TheSeedFixesTheMaskWhateverTheThreadCount) {
  auto x = torch::ones({3, 1000, 77});
  torch::Tensor a, b, c;
  {
    ThreadCount one(1);
    torch::manual_seed(11);
    a = Dropout(x, 0.2, true);
  }
  {
    ThreadCount two(2);
    torch::manual_seed(11);
    b = Dropout(x, 0.2, true);
    c = Dropout(x, 0.2, true);  // the next call draws a new seed
  }
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(b, c));
}

TEST(DropoutTest, GradientIsTheSameMaskAndScale) {
  torch::manual_seed(5);
  auto x = torch::randn({17, 33}, torch::requires_grad());
  auto w = torch::randn({17, 33});
  auto y = Dropout(x, 0.4, true);
  (y * w).sum().backward();
  auto kept = y.ne(0);
  auto expected = torch::where(kept, w / 0.6, torch::zeros_like(w));
  EXPECT_TRUE(torch::allclose(x.grad(), expected, 1e-6, 1e-6));
}

TEST(DropoutTest, LayoutAndDtypeDoNotChangeTheMask) {
  auto x = torch::randn({40, 30}, torch::kFloat64);
  auto t = x.t();  // not contiguous
  auto a = ApplyDropoutMask(t, 0.5, 99);
  auto b = ApplyDropoutMask(t.contiguous(), 0.5, 99);
  EXPECT_TRUE(torch::equal(a, b));
  auto f = ApplyDropoutMask(t.contiguous().to(torch::kFloat32), 0.5, 99);
  EXPECT_TRUE(torch::equal(a.ne(0), f.ne(0)));
  EXPECT_THROW(ApplyDropoutMask(x.to(torch::kInt32), 0.5, 1), c10::Error);
}

// Our attention with torch::nn::MultiheadAttention's weights gives its outputs.
void ExpectSameAsTorch(bool self_attention) {
  torch::manual_seed(2);
  const int64_t d = 20, heads = 4, t = 7, s = self_attention ? 7 : 5, b = 3;
  torch::nn::MultiheadAttention ref(torch::nn::MultiheadAttentionOptions(d, heads));
  Attention ours(d, heads, 0.0);
  {
    torch::NoGradGuard no_grad;
    ours->in_proj_weight.copy_(torch::randn({3 * d, d}) * 0.3);
    ours->in_proj_bias.copy_(torch::randn({3 * d}) * 0.1);
    ours->out_proj->weight.copy_(torch::randn({d, d}) * 0.3);
    ours->out_proj->bias.copy_(torch::randn({d}) * 0.1);
    ref->in_proj_weight.copy_(ours->in_proj_weight);
    ref->in_proj_bias.copy_(ours->in_proj_bias);
    ref->out_proj->weight.copy_(ours->out_proj->weight);
    ref->out_proj->bias.copy_(ours->out_proj->bias);
  }
  ref->eval();
  ours->eval();
  auto q = torch::randn({t, b, d});
  auto kv = self_attention ? q : torch::randn({s, b, d});
  auto pad = torch::zeros({b, s}, torch::kBool);
  pad.index_put_({1, torch::indexing::Slice(s - 2)}, true);
  pad.index_put_({2, torch::indexing::Slice(1)}, true);
  auto expected = std::get<0>(ref->forward(q, kv, kv, pad, /*need_weights=*/false));
  auto got = ours->forward(q, kv, pad);
  EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-5)) << (got - expected).abs().max().item<double>();
  // Padded keys do not matter.
  auto kv2 = kv.clone();
  kv2.index_put_({torch::indexing::Slice(1), 2}, 1e3);
  if (!self_attention) {
    EXPECT_TRUE(torch::allclose(ours->forward(q, kv2, pad).select(1, 2), got.select(1, 2)));
  }
}

TEST(AttentionTest, SelfAttentionMatchesTorchsModule) { ExpectSameAsTorch(true); }
TEST(AttentionTest, CrossAttentionMatchesTorchsModule) { ExpectSameAsTorch(false); }

TEST(AttentionTest, ParametersKeepTorchsNames) {
  Attention a(12, 3, 0.1);
  std::vector<std::string> names;
  for (const auto& p : a->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"}));
}

TEST(AttentionTest, DropoutActsOnlyInTraining) {
  torch::manual_seed(4);
  Attention a(12, 3, 0.5);
  auto q = torch::randn({6, 2, 12});
  a->eval();
  auto e1 = a->forward(q, q, {});
  auto e2 = a->forward(q, q, {});
  EXPECT_TRUE(torch::equal(e1, e2));
  a->train();
  EXPECT_FALSE(torch::allclose(a->forward(q, q, {}), e1));
}

// MulT's future mask (buffered_future_mask: triu(-inf, 1 + |S - T|)) on one
// clip without padding: the scores of hidden keys are -inf before softmax.
TEST(AttentionTest, FutureMaskIsMulTsAndUsesEachClipsOwnLengths) {
  torch::manual_seed(7);
  const int64_t d = 8, heads = 2, t = 4, s = 6;
  Attention masked(d, heads, 0.0);
  masked->eval();
  auto q = torch::randn({t, 1, d}), kv = torch::randn({s, 1, d});
  torch::NoGradGuard no_grad;
  auto out = masked->forward(q, kv, {}, FutureMask(t, s, {}, {}, 1, q.options()));
  // Reference: the same projections with MulT's mask applied by hand.
  namespace F = torch::nn::functional;
  auto w = masked->in_proj_weight, bias = masked->in_proj_bias;
  auto qp = F::linear(q, w.slice(0, 0, d), bias.slice(0, 0, d)).view({t, heads, d / heads}).transpose(0, 1);
  auto kvp = F::linear(kv, w.slice(0, d), bias.slice(0, d)).chunk(2, -1);
  auto kp = kvp[0].reshape({s, heads, d / heads}).transpose(0, 1), vp = kvp[1].reshape({s, heads, d / heads}).transpose(0, 1);
  auto scores = torch::bmm(qp, kp.transpose(1, 2)) / std::sqrt(static_cast<double>(d / heads));
  auto mulT = torch::full({t, s}, -std::numeric_limits<float>::infinity()).triu(1 + std::abs(s - t));
  auto ref = masked->out_proj(torch::bmm(torch::softmax(scores + mulT, -1), vp).transpose(0, 1).reshape({t, 1, d}));
  EXPECT_TRUE(torch::allclose(out, ref, 1e-5, 1e-6));
  // Padding a clip (a longer batch-mate) changes neither its mask nor its output.
  auto q2 = torch::cat({q, torch::randn({3, 1, d})}, 0), kv2 = torch::cat({kv, torch::randn({2, 1, d})}, 0);
  auto qpad = torch::zeros({1, t + 3}, torch::kBool), kpad = torch::zeros({1, s + 2}, torch::kBool);
  qpad.slice(1, t).fill_(true);
  kpad.slice(1, s).fill_(true);
  auto padded = masked->forward(q2, kv2, kpad, FutureMask(t + 3, s + 2, qpad, kpad, 1, q.options())).slice(0, 0, t);
  EXPECT_TRUE(torch::allclose(padded, out, 1e-5, 1e-6));
}

}  // namespace
}  // namespace avctl
