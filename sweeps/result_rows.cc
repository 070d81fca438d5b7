#include "sweeps/result_rows.h"

#include <fmt/format.h>

#include "common/job_result.h"

namespace avctl {

Json ResultRowsToJson(const std::vector<ResultRow>& rows) {
  Json out = Json::array();
  for (const ResultRow& r : rows) {
    Json metrics = Json::object();
    for (const auto& [k, v] : r.metrics) metrics[k] = v;
    out.push_back({{"key", r.key}, {"variant", r.variant}, {"point", r.point}, {"seed", r.seed},
                   {"partition", r.partition}, {"attempt_id", r.attempt_id}, {"worker", r.worker},
                   {"seconds", r.seconds}, {"wall_seconds", r.wall_seconds}, {"metrics", std::move(metrics)}});
  }
  return out;
}

Result<std::vector<ResultRow>> ParseResultRows(const Json& j, const std::string& path) {
  if (!j.is_array()) {
    return Status::InvalidArgument(fmt::format("{}: expected an array, got {}", path, DescribeJson(j))).WithField(path);
  }
  std::vector<ResultRow> rows;
  rows.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string p = JoinJsonPath(path, i);
    const Json& o = j[i];
    if (!o.is_object()) {
      return Status::InvalidArgument(fmt::format("{}: expected an object, got {}", p, DescribeJson(o))).WithField(p);
    }
    ResultRow r;
    AVCTL_ASSIGN_OR_RETURN(r.key, GetString(o, "key", p));
    AVCTL_ASSIGN_OR_RETURN(r.variant, GetString(o, "variant", p));
    AVCTL_ASSIGN_OR_RETURN(r.point, GetString(o, "point", p));
    AVCTL_ASSIGN_OR_RETURN(r.worker, GetString(o, "worker", p));
    AVCTL_ASSIGN_OR_RETURN(const int64_t seed, GetInt(o, "seed", p));
    AVCTL_ASSIGN_OR_RETURN(const int64_t partition, GetInt(o, "partition", p));
    AVCTL_ASSIGN_OR_RETURN(r.attempt_id, GetInt(o, "attempt_id", p));
    AVCTL_ASSIGN_OR_RETURN(r.seconds, GetNumber(o, "seconds", p));
    AVCTL_ASSIGN_OR_RETURN(r.wall_seconds, GetNumber(o, "wall_seconds", p));
    r.seed = static_cast<uint64_t>(seed);
    r.partition = static_cast<int>(partition);
    AVCTL_ASSIGN_OR_RETURN(const Json* metrics, GetMember(o, "metrics", p));
    AVCTL_ASSIGN_OR_RETURN(r.metrics, ReadSplitMetrics(*metrics, JoinJsonPath(p, "metrics")));
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace avctl
