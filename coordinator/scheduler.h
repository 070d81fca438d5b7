// Scheduling decisions, pure: which queued job goes to which worker slot.
// Order: sweep priority (higher first), then the older sweep, then the job's
// seed-major position in its sweep (seed 0 of every variant first, so that
// matched pairs complete early). A job goes only to a worker whose device and
// free memory satisfy its resources; among those, the one with the most free
// slots (ties: the lower id), which spreads jobs over the fleet.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"
#include "sweeps/job_resources.h"

namespace avctl {

// The queued jobs in scheduling order; insert and erase in O(log n).
class ReadyQueue {
 public:
  void Push(const QueuedJob& job);
  // False if the job is not queued here.
  bool Erase(int64_t job_id);
  bool Contains(int64_t job_id) const { return by_id_.count(job_id) != 0; }
  // The queued job, or null.
  const QueuedJob* Find(int64_t job_id) const {
    auto it = by_id_.find(job_id);
    return it == by_id_.end() ? nullptr : &it->second;
  }
  size_t size() const { return by_id_.size(); }
  bool empty() const { return by_id_.empty(); }
  void Clear();
  // In scheduling order.
  std::vector<QueuedJob> Ordered() const;
  // Calls f(job) in scheduling order while it returns true.
  template <typename F>
  void ForEach(F f) const {
    for (const auto& k : order_) {
      if (!f(by_id_.at(std::get<3>(k)))) return;
    }
  }

 private:
  using Key = std::tuple<int, int64_t, int64_t, int64_t>;  // (-priority, sweep, order, id)
  static Key KeyOf(const QueuedJob& j) { return {-j.priority, j.sweep_id, j.order, j.job_id}; }
  std::set<Key> order_;
  std::unordered_map<int64_t, QueuedJob> by_id_;
};

struct WorkerCapacity {
  std::string id;
  std::string device = "cpu";  // "cpu" or "cuda"
  int free_slots = 0;
  int64_t free_memory_mb = 0;  // device memory not promised to running jobs; < 0: not tracked
  bool accepting = true;       // false while draining or not ready
  bool runs_commands = true;   // its protocol runs command jobs (kCommandJobsProtocolVersion on)
};

// The device memory a worker may promise to its jobs: the memory free when
// its daemon started (other processes keep theirs), else the total; 0: unknown.
int64_t GpuBudgetMb(int64_t total_mb, int64_t free_mb);

struct Assignment {
  int64_t job_id;
  std::string worker_id;
};

bool DeviceMatches(const JobResources& r, const WorkerCapacity& w);
// The worker may take the job, memory aside: its device matches, it runs
// the job's kind, and the job did not run out of memory there before.
bool CanTake(const QueuedJob& job, const WorkerCapacity& w);

// Why no worker of `fleet` could ever run a job with these resources, even
// with every slot and all its device memory free; "" when one could. `fleet`:
// the connected workers, each with its whole slots and its GPU budget as
// free_memory_mb (< 0: not tracked); draining ones (accepting false) do not
// count. E.g. "it needs a cuda worker (resources.device); connected: 2 cpu workers".
std::string WhyNoWorkerCanRun(const QueuedJob& job, const std::vector<WorkerCapacity>& fleet);

// Assigns queued jobs to free slots, in queue order, until no slot is left.
// A job that fits no worker stays queued; later jobs may still be placed.
// A job goes to a worker it failed on (failed_on) only when no other
// connected worker could take it: one broken node does not take the same
// job again and again.
std::vector<Assignment> Schedule(const ReadyQueue& queue, std::vector<WorkerCapacity> workers);

}  // namespace avctl
