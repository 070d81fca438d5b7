#include "coordinator/scheduler.h"

#include <algorithm>

#include <fmt/format.h>

namespace avctl {

int64_t GpuBudgetMb(int64_t total_mb, int64_t free_mb) {
  if (free_mb > 0 && (total_mb <= 0 || free_mb < total_mb)) return free_mb;
  return std::max<int64_t>(total_mb, 0);
}


void ReadyQueue::Push(const QueuedJob& job) {
  Erase(job.job_id);
  order_.insert(KeyOf(job));
  by_id_[job.job_id] = job;
}

bool ReadyQueue::Erase(int64_t job_id) {
  auto it = by_id_.find(job_id);
  if (it == by_id_.end()) return false;
  order_.erase(KeyOf(it->second));
  by_id_.erase(it);
  return true;
}

void ReadyQueue::Clear() {
  order_.clear();
  by_id_.clear();
}

std::vector<QueuedJob> ReadyQueue::Ordered() const {
  std::vector<QueuedJob> out;
  out.reserve(order_.size());
  for (const auto& k : order_) out.push_back(by_id_.at(std::get<3>(k)));
  return out;
}

bool DeviceMatches(const JobResources& r, const WorkerCapacity& w) {
  return r.device == "any" || r.device == w.device;
}

std::vector<Assignment> Schedule(const ReadyQueue& queue, std::vector<WorkerCapacity> workers) {
  std::vector<Assignment> out;
  workers.erase(std::remove_if(workers.begin(), workers.end(),
                               [](const WorkerCapacity& w) { return !w.accepting || w.free_slots <= 0; }),
                workers.end());
  int free = 0;
  for (const auto& w : workers) free += w.free_slots;
  queue.ForEach([&](const QueuedJob& job) {
    if (free == 0) return false;
    WorkerCapacity* best = nullptr;
    for (auto& w : workers) {
      if (w.free_slots <= 0 || !DeviceMatches(job.resources, w)) continue;
      if (w.free_memory_mb >= 0 && job.resources.memory_mb > w.free_memory_mb) continue;
      if (best == nullptr || w.free_slots > best->free_slots ||
          (w.free_slots == best->free_slots && w.id < best->id)) {
        best = &w;
      }
    }
    if (best == nullptr) return true;
    out.push_back({job.job_id, best->id});
    --best->free_slots;
    --free;
    if (best->free_memory_mb >= 0) best->free_memory_mb -= job.resources.memory_mb;
    return true;
  });
  return out;
}

}  // namespace avctl
