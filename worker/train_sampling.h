// Which Train clips keep their labels, and an epoch's batches: pure,
// seeded functions of the store's clips (no libtorch).
#pragma once

#include <cstdint>
#include <vector>

#include "store/feature_store.h"

namespace avctl {

// Which Train clips keep their labels: per actor, a seeded shuffle keeps
// round(fraction x n) clips (at least one). Returns a flag per entry of `train`.
std::vector<bool> ChooseLabeled(const FeatureStore& store, const std::vector<size_t>& train, double fraction,
                                uint64_t seed);

// Batches of the Train clips for one epoch: sorted by length with seeded
// jitter and cut into batches whose order is shuffled (length buckets), or a
// plain seeded shuffle.
std::vector<std::vector<size_t>> EpochBatches(const FeatureStore& store, const std::vector<size_t>& train,
                                              int batch_size, bool buckets, uint64_t seed);

}  // namespace avctl
