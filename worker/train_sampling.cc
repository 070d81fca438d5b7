#include "worker/train_sampling.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "common/random.h"

namespace avctl {

std::vector<bool> ChooseLabeled(const FeatureStore& store, const std::vector<size_t>& train, double fraction,
                                uint64_t seed) {
  std::vector<bool> labeled(train.size(), fraction >= 1.0);
  if (fraction >= 1.0) return labeled;
  std::map<std::string, std::vector<size_t>> by_actor;  // group (actor) -> positions in `train`
  for (size_t i = 0; i < train.size(); ++i) by_actor[store.clip(train[i]).group].push_back(i);
  for (auto& [actor, pos] : by_actor) {
    Rng rng(DeriveGroupSeed(seed, "labeled", actor));
    for (size_t i = pos.size(); i > 1; --i) std::swap(pos[i - 1], pos[rng.Below(i)]);
    size_t keep = std::max<size_t>(1, static_cast<size_t>(std::llround(fraction * static_cast<double>(pos.size()))));
    for (size_t i = 0; i < keep && i < pos.size(); ++i) labeled[pos[i]] = true;
  }
  return labeled;
}

std::vector<std::vector<size_t>> EpochBatches(const FeatureStore& store, const std::vector<size_t>& train,
                                              int batch_size, bool buckets, uint64_t seed) {
  Rng rng(seed);
  std::vector<size_t> order = train;
  if (buckets) {
    // Length with up to 10% jitter so that buckets differ between epochs.
    std::vector<std::pair<double, size_t>> keyed;
    for (size_t i : order) keyed.emplace_back(store.clip(i).audio_frames * rng.Uniform(0.95, 1.05), i);
    std::sort(keyed.begin(), keyed.end());
    for (size_t i = 0; i < keyed.size(); ++i) order[i] = keyed[i].second;
  } else {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
  }
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < order.size(); i += static_cast<size_t>(batch_size)) {
    batches.emplace_back(order.begin() + i, order.begin() + std::min(order.size(), i + batch_size));
  }
  // A last batch of one clip has no batch statistics: merge it into the previous one.
  if (batches.size() > 1 && batches.back().size() < 2) {
    batches[batches.size() - 2].insert(batches[batches.size() - 2].end(), batches.back().begin(), batches.back().end());
    batches.pop_back();
  }
  for (size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[rng.Below(i)]);
  return batches;
}

}  // namespace avctl
