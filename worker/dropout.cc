#include "worker/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
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

// MurmurHash3's 32-bit finaliser: cheap enough to vectorise (AVX2 has a
// 32-bit multiply), and with full avalanche.
inline uint32_t Mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bU;
  h ^= h >> 13;
  h *= 0xc2b2ae35U;
  return h ^ (h >> 16);
}

// Elements are hashed in blocks: each block gets a 64-bit key from the call
// seed and its index, and element j of the block the 32-bit hash of (key, j).
constexpr int64_t kBlock = 1 << 16;

template <typename T>
inline void MaskBlockImpl(const T* in, T* out, int64_t n, uint32_t key_lo, uint32_t key_hi, uint32_t threshold,
                          T scale) {
  for (int64_t j = 0; j < n; ++j) {
    const uint32_t h = Mix32(Mix32(static_cast<uint32_t>(j) * 0x9e3779b1U ^ key_lo) + key_hi);
    out[j] = in[j] * (h < threshold ? scale : T(0));  // branch-free, so it vectorises
  }
}

// One copy per instruction set, picked when the program loads (x86-64 with
// GCC or Clang; elsewhere the compiler's default target).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define AVCTL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AVCTL_CLONES
#endif

AVCTL_CLONES void MaskBlock(const float* in, float* out, int64_t n, uint32_t key_lo, uint32_t key_hi,
                             uint32_t threshold, float scale) {
  MaskBlockImpl(in, out, n, key_lo, key_hi, threshold, scale);
}

AVCTL_CLONES void MaskBlock(const double* in, double* out, int64_t n, uint32_t key_lo, uint32_t key_hi,
                             uint32_t threshold, double scale) {
  MaskBlockImpl(in, out, n, key_lo, key_hi, threshold, scale);
}

#undef AVCTL_CLONES

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
  // keep iff hash < threshold = (1 - p) * 2^32, rounded.
  const long long keep = std::llround((1.0 - p) * 4294967296.0);
  if (keep >= 4294967296LL) return in.clone();  // p too small to drop anything
  const auto threshold = static_cast<uint32_t>(keep);
  torch::Tensor out = torch::empty_like(in, at::MemoryFormat::Contiguous);
  const int64_t n = in.numel();
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "ApplyDropoutMask", [&] {
    const scalar_t* src = in.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    const auto scale = static_cast<scalar_t>(1.0 / (1.0 - p));
    at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const uint64_t key = Mix64(seed + static_cast<uint64_t>(b) * kGolden);
        const int64_t first = b * kBlock;
        MaskBlock(src + first, dst + first, std::min(kBlock, n - first), static_cast<uint32_t>(key),
                  static_cast<uint32_t>(key >> 32), threshold, scale);
      }
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
