// ParallelFor: runs fn(i) for i in [0, n) on up to `threads` threads (the
// caller's included). Items are claimed one by one, so uneven items balance;
// each fn(i) must only touch its own slot of shared output.
#pragma once

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace avctl {

template <typename Fn>
void ParallelFor(size_t n, int threads, Fn fn) {
  std::atomic<size_t> next{0};
  auto work = [&]() {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads && static_cast<size_t>(t) < n; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

// The thread count to use: `requested` if positive, else the hardware's (at least 1).
inline int ResolveThreads(int requested) {
  int n = requested > 0 ? requested : static_cast<int>(std::thread::hardware_concurrency());
  return n > 0 ? n : 1;
}

}  // namespace avctl
