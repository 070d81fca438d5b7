#include "coordinator/scheduler.h"

#include <algorithm>

#include <fmt/format.h>

namespace avctl {

Result<JobResources> ParseJobResources(const Json& j, const std::string& path) {
  JobResources r;
  if (j.is_null()) return r;
  if (!j.is_object()) {
    return Status::InvalidArgument(fmt::format("expected an object, got {}", DescribeJson(j))).WithField(path);
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "device") {
      AVCTL_ASSIGN_OR_RETURN(r.device, GetString(j, key, path));
      if (r.device != "any" && r.device != "cpu" && r.device != "cuda") {
        return Status::InvalidArgument(fmt::format("expected \"any\", \"cpu\" or \"cuda\", got \"{}\"", r.device))
            .WithField(JoinJsonPath(path, key));
      }
    } else if (key == "gpu_memory_mb") {
      AVCTL_ASSIGN_OR_RETURN(r.memory_mb, GetInt(j, key, path));
      if (r.memory_mb < 0) {
        return Status::InvalidArgument("expected a non-negative number of MiB").WithField(JoinJsonPath(path, key));
      }
    } else {
      return Status::InvalidArgument(fmt::format("unknown field (expected device or gpu_memory_mb); value {}",
                                                 DescribeJson(value))).WithField(JoinJsonPath(path, key));
    }
  }
  return r;
}

int64_t GpuBudgetMb(int64_t total_mb, int64_t free_mb) {
  if (free_mb > 0 && (total_mb <= 0 || free_mb < total_mb)) return free_mb;
  return std::max<int64_t>(total_mb, 0);
}

Json JobResourcesToJson(const JobResources& r) { return {{"device", r.device}, {"gpu_memory_mb", r.memory_mb}}; }

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
