#include "sweeps/job_resources.h"

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

Json JobResourcesToJson(const JobResources& r) { return {{"device", r.device}, {"gpu_memory_mb", r.memory_mb}}; }

}  // namespace avctl
