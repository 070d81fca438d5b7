// Dropout whose random mask comes from a counter-based stream: element i of
// a call is kept iff a 32-bit hash of (call seed, i) falls below
// (1 - p) * 2^32, and kept elements are scaled by 1 / (1 - p). The hash is
// vectorised (AVX2 where the CPU has it, chosen at load time).
//
// Why not torch's dropout: on CPU without MKL (Debian's libtorch) ATen draws
// the Bernoulli mask one element at a time from the global generator on one
// thread, which took a quarter of a ladder_av training step (the attention
// dropouts act on [B*heads, T, T] tensors). Here the mask is a pure function
// of the element index, so the kernel runs on every intra-op thread, the
// result does not depend on the thread count, and the backward pass
// recomputes the mask from the seed instead of storing it.
//
// The call seed is drawn from torch's default CPU generator, so
// torch::manual_seed(job seed) fixes every mask of a run. CUDA tensors, and
// dtypes other than float and double, go to torch's own dropout.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace avctl {

// Inverted dropout with drop probability p in [0, 1]. Not training, or p = 0:
// x itself. p = 1: zeros. Differentiable with respect to x.
torch::Tensor Dropout(const torch::Tensor& x, double p, bool training);

// The kernel behind Dropout: x (any layout) with the mask of `seed` applied
// and kept elements multiplied by 1 / (1 - p); float or double CPU tensors.
// The backward pass of Dropout is this same function applied to the gradient.
torch::Tensor ApplyDropoutMask(const torch::Tensor& x, double p, uint64_t seed);

}  // namespace avctl
