#include "worker/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <mutex>

namespace avctl {
namespace {

// splitmix64's output function: a bijective 64-bit mix with full avalanche.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// out[i] = in[i] * scale where the mask keeps element i, else 0. One hash
// serves two elements (its low and high 32 bits).
template <typename T>
void MaskRange(const T* in, T* out, int64_t begin_pair, int64_t end_pair, int64_t n, uint64_t seed,
               uint64_t threshold, T scale) {
  for (int64_t j = begin_pair; j < end_pair; ++j) {
    const uint64_t h = Mix64(seed + static_cast<uint64_t>(j) * kGolden);
    const int64_t i = 2 * j;
    out[i] = (h & 0xffffffffULL) < threshold ? in[i] * scale : T(0);
    if (i + 1 < n) out[i + 1] = (h >> 32) < threshold ? in[i + 1] * scale : T(0);
  }
}

uint64_t DrawSeed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
}

class DropoutFunction : public torch::autograd::Function<DropoutFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p,
                               int64_t seed) {
    ctx->saved_data["p"] = p;
    ctx->saved_data["seed"] = seed;
    return ApplyDropoutMask(x, p, static_cast<uint64_t>(seed));
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const double p = ctx->saved_data["p"].toDouble();
    const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
    return {ApplyDropoutMask(grad[0], p, seed), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor ApplyDropoutMask(const torch::Tensor& x, double p, uint64_t seed) {
  TORCH_CHECK(x.device().is_cpu(), "ApplyDropoutMask: CPU tensors only, got ", x.device());
  TORCH_CHECK(x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kFloat64,
              "ApplyDropoutMask: float or double tensors only, got ", x.scalar_type());
  TORCH_CHECK(p >= 0.0 && p < 1.0, "ApplyDropoutMask: p must lie in [0, 1), got ", p);
  const torch::Tensor in = x.contiguous();
  torch::Tensor out = torch::empty_like(in, at::MemoryFormat::Contiguous);
  const int64_t n = in.numel();
  // keep iff hash32 < threshold; (1 - p) * 2^32 rounded, at most 2^32.
  const auto threshold = static_cast<uint64_t>(std::llround((1.0 - p) * 4294967296.0));
  const int64_t pairs = (n + 1) / 2;
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "ApplyDropoutMask", [&] {
    const scalar_t* src = in.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    const auto scale = static_cast<scalar_t>(1.0 / (1.0 - p));
    at::parallel_for(0, pairs, 1 << 14, [&](int64_t begin, int64_t end) {
      MaskRange(src, dst, begin, end, n, seed, threshold, scale);
    });
  });
  return out;
}

torch::Tensor Dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p == 0.0) return x;
  if (!x.device().is_cpu() || (x.scalar_type() != torch::kFloat32 && x.scalar_type() != torch::kFloat64) ||
      p >= 1.0) {
    return torch::nn::functional::dropout(x, torch::nn::functional::DropoutFuncOptions().p(p).training(true));
  }
  const auto seed = static_cast<int64_t>(DrawSeed());
  return DropoutFunction::apply(x, p, seed);
}

}  // namespace avctl
