#include "coordinator/scheduler.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/protocol.h"

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

bool CanTake(const QueuedJob& job, const WorkerCapacity& w) {
  return DeviceMatches(job.resources, w) && (!job.command || w.runs_commands) &&
         std::find(job.avoid_workers.begin(), job.avoid_workers.end(), w.id) == job.avoid_workers.end();
}

std::string WhyNoWorkerCanRun(const QueuedJob& job, const std::vector<WorkerCapacity>& fleet) {
  const JobResources& r = job.resources;
  std::map<std::string, int> devices;  // of the accepting workers
  int64_t best_budget = -2;            // the largest tracked budget among matching workers; -2: none matches
  std::string best_id;
  int old_protocol = 0;                // accepting workers too old for a command job
  std::vector<std::string> avoided;    // matching workers it ran out of memory on
  for (const auto& w : fleet) {
    if (!w.accepting) continue;
    ++devices[w.device];
    if (job.command && !w.runs_commands) {
      ++old_protocol;
      continue;
    }
    if (!DeviceMatches(r, w)) continue;
    if (!CanTake(job, w)) {
      avoided.push_back(w.id);
      continue;
    }
    if (w.free_memory_mb < 0 || r.memory_mb <= w.free_memory_mb) return "";
    if (w.free_memory_mb > best_budget) best_budget = w.free_memory_mb, best_id = w.id;
  }
  if (devices.empty()) return "no worker is connected";
  if (best_budget == -2 && old_protocol > 0 &&
      std::none_of(fleet.begin(), fleet.end(), [](const WorkerCapacity& w) { return w.accepting && w.runs_commands; })) {
    return fmt::format("it is a command job and the {} connected worker{} speak{} a protocol older than version {}, "
                       "which runs built-in models only (upgrade avworker)",
                       old_protocol, old_protocol == 1 ? "" : "s", old_protocol == 1 ? "s" : "",
                       kCommandJobsProtocolVersion);
  }
  if (best_budget == -2 && !avoided.empty()) {
    std::string names;
    for (const auto& id : avoided) names += (names.empty() ? "" : ", ") + id;
    return fmt::format("it ran out of memory on {} and waits for another worker that can run it", names);
  }
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

namespace {

bool Contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

std::vector<Assignment> Schedule(const ReadyQueue& queue, std::vector<WorkerCapacity> workers) {
  std::vector<Assignment> out;
  // Every accepting worker, busy or not: a retried job waits for one it has
  // not failed on while such a worker is connected.
  std::vector<WorkerCapacity> fleet;
  for (const auto& w : workers) {
    if (w.accepting) fleet.push_back(w);
  }
  workers.erase(std::remove_if(workers.begin(), workers.end(),
                               [](const WorkerCapacity& w) { return !w.accepting || w.free_slots <= 0; }),
                workers.end());
  int free = 0;
  for (const auto& w : workers) free += w.free_slots;
  queue.ForEach([&](const QueuedJob& job) {
    if (free == 0) return false;
    const bool avoid_failed = !job.failed_on.empty() && std::any_of(fleet.begin(), fleet.end(), [&](const auto& w) {
      return CanTake(job, w) && !Contains(job.failed_on, w.id);
    });
    WorkerCapacity* best = nullptr;
    for (auto& w : workers) {
      if (w.free_slots <= 0 || !CanTake(job, w)) continue;
      if (avoid_failed && Contains(job.failed_on, w.id)) continue;
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
