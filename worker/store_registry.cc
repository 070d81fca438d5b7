#include "worker/store_registry.h"

#include <chrono>

#include "store/synth_dataset.h"

namespace avctl {

StoreRegistry::~StoreRegistry() {
  for (auto& [key, e] : entries_) {
    if (e.preparing.valid()) e.preparing.wait();
  }
}

StoreRegistry::Lookup StoreRegistry::Get(const Json& dataset) {
  const std::string key = Key(dataset);
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second.lookup;
  Entry& e = entries_[key];
  e.lookup.state = State::kPreparing;
  // The thread gets copies: the registry may move on while it runs.
  e.preparing = std::async(std::launch::async, [dataset, cache = cache_dir_, log = log_]() -> Result<Prepared> {
    AVCTL_ASSIGN_OR_RETURN(std::string dir, ResolveDatasetStore(dataset, cache, log, "dataset"));
    const auto t0 = std::chrono::steady_clock::now();
    FeatureStore::Options o;
    o.verify_checksums = true;
    AVCTL_ASSIGN_OR_RETURN(auto store, FeatureStore::Open(dir, o));
    if (log != nullptr) {
      log->Info("store {} opened and verified in {:.2f} s; its jobs share it", dir,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return Prepared{dir, std::move(store)};
  });
  return e.lookup;
}

std::vector<std::string> StoreRegistry::Poll() {
  std::vector<std::string> changed;
  for (auto& [key, e] : entries_) {
    if (!e.preparing.valid() ||
        e.preparing.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      continue;
    }
    Result<Prepared> r = e.preparing.get();
    if (r.ok()) {
      e.lookup = {State::kReady, r->dir, Status::OK()};
      e.store = std::move(r->store);
    } else {
      e.lookup = {State::kFailed, "", r.status()};
    }
    changed.push_back(key);
  }
  return changed;
}

size_t StoreRegistry::open_stores() const {
  size_t n = 0;
  for (const auto& [key, e] : entries_) n += e.store != nullptr;
  return n;
}

}  // namespace avctl
