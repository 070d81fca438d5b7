// The reply of the `results` control operation (docs/PROTOCOL.md): one row
// per stored result of a sweep, its job's place and the test metrics it
// carries (any names). One typed home: the record builds the rows, the
// control API writes them, `avctl results` and `avctl sweep run` read them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

struct ResultRow {
  std::string key, variant, point, worker;
  uint64_t seed = 0;
  int partition = 1;
  int64_t attempt_id = 0;
  double seconds = 0;       // the worker's compute_seconds (the wall time for results stored before it existed)
  double wall_seconds = 0;  // dispatch to end, as the coordinator saw it
  std::map<std::string, double> metrics;  // test metrics by name (per-class rows left out)
};

Json ResultRowsToJson(const std::vector<ResultRow>& rows);
// Errors name the field (`results[3].metrics.ccc: expected a number`).
Result<std::vector<ResultRow>> ParseResultRows(const Json& j, const std::string& path = "results");

}  // namespace avctl
