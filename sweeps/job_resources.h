// What a job needs from the worker that runs it (declared in a sweep's
// "resources", docs/SWEEPS.md), and a queued job's place in the scheduling
// order. Part of the job contract: the coordinator's scheduler and its record
// both read them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

struct JobResources {
  std::string device = "any";  // "any", "cpu" or "cuda"
  int64_t memory_mb = 0;       // declared device memory estimate; 0: negligible
};
// {"device": "cuda", "gpu_memory_mb": 4000}; unknown fields and bad values are errors naming `path`.
Result<JobResources> ParseJobResources(const Json& j, const std::string& path);
Json JobResourcesToJson(const JobResources& r);

struct QueuedJob {
  int64_t job_id = 0;
  int priority = 0;      // the sweep's
  int64_t sweep_id = 0;
  int64_t order = 0;     // seed-major index within the sweep
  JobResources resources;
  bool command = false;  // kind "command": only workers of kCommandJobsProtocolVersion on run it
  std::vector<std::string> avoid_workers;  // where it ran out of memory: not given to them again
  std::vector<std::string> failed_on;      // where an attempt failed: others first, while one is connected
};

}  // namespace avctl
