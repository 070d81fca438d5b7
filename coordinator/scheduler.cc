#include "coordinator/scheduler.h"

#include <algorithm>
#include <map>

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

std::string WhyNoWorkerCanRun(const JobResources& r, const std::vector<WorkerCapacity>& fleet) {
  std::map<std::string, int> devices;  // of the accepting workers
  int64_t best_budget = -2;            // the largest tracked budget among matching workers; -2: none matches
  std::string best_id;
  for (const auto& w : fleet) {
    if (!w.accepting) continue;
    ++devices[w.device];
    if (!DeviceMatches(r, w)) continue;
    if (w.free_memory_mb < 0 || r.memory_mb <= w.free_memory_mb) return "";
    if (w.free_memory_mb > best_budget) best_budget = w.free_memory_mb, best_id = w.id;
  }
  if (devices.empty()) return "no worker is connected";
  if (best_budget == -2) {
    std::string have;
    for (const auto& [device, count] : devices) {
      have += fmt::format("{}{} {} worker{}", have.empty() ? "" : ", ", count, device, count == 1 ? "" : "s");
    }
    return fmt::format("it needs a {} worker (resources.device); connected: {}", r.device, have);
  }
  return fmt::format("it declares {} MB of GPU memory (resources.gpu_memory_mb) and the largest budget of a "
                     "connected {} worker is {} MB ({})",
                     r.memory_mb, r.device == "any" ? "matching" : r.device, best_budget, best_id);
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
