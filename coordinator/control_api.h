// The control API of avcoord (docs/PROTOCOL.md, "Control channel"): a table
// of operations, each a request's JSON in and its reply's fields (or the
// error) out. The control ROUTER and the HTTP API both answer through it.
// Runs inside the coordinator's rounds.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/log.h"
#include "common/status.h"
#include "coordinator/sequential_scheduler.h"
#include "coordinator/worker_broker.h"
#include "db/record.h"

namespace avctl {

class ControlApi {
 public:
  // `sequential` (may be null: no group-sequential sweeps are accepted)
  // runs the interim looks of sweeps with "sequential".
  ControlApi(Record* record, WorkerBroker* broker, Logger* log, SequentialScheduler* sequential = nullptr);

  // The reply's fields for `request` ({"op": ..., ...}), or the error to answer with.
  Result<Json> Handle(const Json& request);
  // Whether the request's op only reads (then it may be answered before the
  // round commits); false for unknown ops.
  bool ReadOnly(const Json& request) const;

  struct Op {
    const char* name;
    bool read_only;
    std::function<Result<Json>(ControlApi&, const Json&)> run;
  };
  static const std::vector<Op>& Ops();

 private:
  static const Op* Find(const Json& request);
  Result<int64_t> SweepOf(const Json& request);
  // {"writable": true} or {"writable": false, "reason": ...} (degraded: full disk, I/O error).
  Json RecordHealth() const;
  Result<Json> Submit(const Json& request);
  // A sequential sweep's design and analysed looks, for its status.
  Result<Json> SequentialStatus(int64_t sweep_id);

  Record* record_;
  WorkerBroker* broker_;
  Logger* log_;
  SequentialScheduler* sequential_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace avctl
