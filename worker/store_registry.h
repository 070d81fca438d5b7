// The feature stores a worker's jobs read, prepared once per worker daemon:
// resolved (a store path, or a synthetic store built in the cache), opened and
// checksum-verified on a background thread so that the daemon keeps
// answering heartbeats, then held open (mapped) for the daemon's lifetime.
// Each job's process maps the same files (one copy in the page cache) and
// skips the verification the daemon already did.
#pragma once

#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/log.h"
#include "common/status.h"
#include "store/feature_store.h"

namespace avctl {

class StoreRegistry {
 public:
  enum class State { kPreparing, kReady, kFailed };
  struct Lookup {
    State state = State::kPreparing;
    std::string dir;      // kReady: the verified store
    Status error;         // kFailed: why (names the store or the dataset field)
  };

  StoreRegistry(std::string cache_dir, Logger* log) : cache_dir_(std::move(cache_dir)), log_(log) {}
  StoreRegistry(const StoreRegistry&) = delete;
  StoreRegistry& operator=(const StoreRegistry&) = delete;
  ~StoreRegistry();  // waits for preparations still running

  // The state of `dataset`'s store; the first call starts preparing it. A
  // failed store is prepared again by the next Get after Forget.
  Lookup Get(const Json& dataset);
  // Collects finished preparations; returns the keys that changed state.
  std::vector<std::string> Poll();
  void Forget(const std::string& key) { entries_.erase(key); }
  static std::string Key(const Json& dataset) { return dataset.dump(); }
  // Stores held open now.
  size_t open_stores() const;

 private:
  struct Prepared {
    std::string dir;
    std::unique_ptr<FeatureStore> store;
  };
  struct Entry {
    std::future<Result<Prepared>> preparing;  // valid while kPreparing
    Lookup lookup;
    std::unique_ptr<FeatureStore> store;      // held open while kReady
  };

  std::string cache_dir_;
  Logger* log_;
  std::map<std::string, Entry> entries_;
};

}  // namespace avctl
