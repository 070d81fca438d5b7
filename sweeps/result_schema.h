// The result a worker returns for an attempt: the "result" of a result
// message (docs/PROTOCOL.md, "The result"). The coordinator checks every
// result against it before storing; one that does not meet it fails its
// attempt (a worker failure, so the job is retried elsewhere) with the
// reason naming the field, instead of being stored and showing nothing in
// the report.
//
// Required, for every kind:
//   status           "ok"
//   compute_seconds  number >= 0: the time the attempt's work took on the
//                    worker, measured there (the coordinator's dispatch-to-end
//                    time is kept apart as the wall time)
//   test.metrics     object of numbers (and the array per_class)
// and for kind "train" also:
//   test.metrics.macro_f1, test.metrics.accuracy   numbers in [0, 1]
// Optional fields are checked for their type where present (ResultFields).
#pragma once

#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"
#include "common/protocol.h"

namespace avctl {

// InvalidArgument naming the first field at fault ("result.test.metrics.macro_f1: ...").
Status ValidateResult(const Json& result, JobKind kind);

struct ResultField {
  const char* path;      // dotted, below "result"
  const char* type;      // "string", "number", "object", "array", "boolean", "integer"
  bool required;         // for every kind (train-only requirements: see above)
  const char* meaning;
};
// Every field avctl reads from a result (docs/PROTOCOL.md lists the same).
const std::vector<ResultField>& ResultFields();

}  // namespace avctl
