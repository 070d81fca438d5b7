// avctl::Dropout (worker/dropout.h) against ATen's CPU dropout and a plain
// copy (the memory-bound floor) on the shape of one ladder_av attention
// dropout: [B*heads, T, S] = [320, 160, 160] float32, forward only.
//
//   dropout_bench [--threads T] [--iters N]
#include <chrono>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "worker/dropout.h"

int main(int argc, char** argv) {
  int threads = 2, iters = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    else if (a == "--iters" && i + 1 < argc) iters = std::stoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: dropout_bench [--threads T] [--iters N]\n");
      return 2;
    }
  }
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  auto x = torch::randn({320, 160, 160});
  auto seconds = [&](auto f) {
    f();  // warm-up: first touch of the output's pages
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
  };
  const double copy = seconds([&] { return x.clone(); });
  const double aten = seconds([&] { return torch::dropout(x, 0.1, /*train=*/true); });
  const double ours = seconds([&] { return avctl::Dropout(x, 0.1, /*training=*/true); });
  std::printf("dropout_bench: [320, 160, 160] float32, p 0.1, %d thread(s), mean of %d calls\n\n", threads, iters);
  std::printf("| operation | ms per call | ns per element | ratio to ATen dropout |\n| --- | ---: | ---: | ---: |\n");
  const double n = static_cast<double>(x.numel());
  for (auto [name, s] : {std::pair<const char*, double>{"ATen dropout (reference)", aten},
                         {"avctl::Dropout", ours},
                         {"clone (memory-bound floor)", copy}}) {
    std::printf("| %s | %.2f | %.2f | %.2f |\n", name, s * 1e3, s * 1e9 / n, aten / s);
  }
  return 0;
}
