// Runs the group-sequential sweeps of the record (sweeps/sequential_spec.h):
// one SequentialMonitor per sweep, fed from the record; after a round's
// messages it analyses the looks that became ready, stores each (with its
// data, so a restart replays the same decisions), releases the stages the
// looks allow onto the broker's ready queue, and ends the jobs that no
// comparison needs any more as "not needed". Runs inside the coordinator's
// rounds: what it writes commits with the round, and a rolled-back round
// is followed by Reload.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>

#include "common/clock.h"
#include "common/log.h"
#include "coordinator/sequential_monitor.h"
#include "coordinator/worker_broker.h"
#include "db/record.h"

namespace avctl {

class SequentialScheduler {
 public:
  SequentialScheduler(Record* record, WorkerBroker* broker, Logger* log, const Clock* clock = &SystemClock());

  // Every sequential sweep of the record, from its stored looks; each is
  // then processed once (a look may have become ready before a crash).
  Status Reload();
  // A sweep was submitted (or resubmitted): read it again, then process it.
  void OnSubmitted(int64_t sweep_id);
  // A job of the sweep ended (done, or failed for good), or its jobs were
  // retried: processed at the next Process.
  void Touch(int64_t sweep_id);
  bool IsSequential(int64_t sweep_id) const { return monitors_.count(sweep_id) != 0 || broken_.count(sweep_id) != 0; }
  // Looks, releases and jobs not needed for the touched sweeps.
  void Process();
  // Why a sweep's looks stopped ("": they did not), for its status.
  std::string Broken(int64_t sweep_id) const;

 private:
  Status Load(int64_t sweep_id);
  Status ProcessSweep(int64_t sweep_id);
  Status ApplyReleases(int64_t sweep_id, const SequentialMonitor& m);

  Record* record_;
  WorkerBroker* broker_;
  Logger* log_;
  const Clock* clock_;
  SequentialDesignCache designs_;  // before monitors_: they point into it
  std::map<int64_t, std::unique_ptr<SequentialMonitor>> monitors_;
  std::map<int64_t, std::string> broken_;  // sweeps whose spec or stored looks could not be loaded, and why
  std::set<int64_t> touched_;
};

}  // namespace avctl
