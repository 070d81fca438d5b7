// Runs the group-sequential sweeps of the record (sweeps/sequential_spec.h):
// one SequentialMonitor per sweep, fed from the record; after a round's
// messages it analyses the looks that became ready, stores each (with its
// data, so a restart replays the same decisions), releases the stages the
// looks allow onto the broker's ready queue, and ends the jobs that no
// comparison needs any more as "not needed". Runs inside the coordinator's
// rounds: what it writes commits with the round, and a rolled-back round
// is followed by Reload.
//
// A strict design calibrates its bounds on 10^6 simulated paths (about a
// second each), and a look may need several: done on the coordinator's
// loop that would stall heartbeats. So with `post` (the coordinator's: run
// a function on its loop), a ready look of a strict sweep is first analysed
// on a thread of its own from a copy of the inputs, which fills the shared
// design cache; when it posts back, the loop analyses the look for real
// with every design cached. Without `post` (tests), it analyses at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <functional>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "coordinator/sequential_monitor.h"
#include "coordinator/worker_broker.h"
#include "db/record.h"

namespace avctl {

class SequentialScheduler {
 public:
  using PostFn = std::function<void(std::function<void()>)>;
  SequentialScheduler(Record* record, WorkerBroker* broker, Logger* log, const Clock* clock = &SystemClock(),
                      PostFn post = nullptr);
  // Waits for the design threads (their posts may never run: the loop is gone).
  ~SequentialScheduler();

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
  // Strict designs being made off the loop (for tests and status).
  size_t warming() const { return warming_.size(); }

 private:
  // Starts making the designs look `look` of a strict sweep will need on a
  // thread; true when they are already made.
  Result<bool> DesignsReady(int64_t sweep_id, const SequentialMonitor& m, const std::vector<ResultRow>& results);
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
  PostFn post_;
  std::map<int64_t, SweepSpec> specs_;            // of the loaded sweeps
  std::map<int64_t, std::vector<GroupKey>> groups_;
  std::set<std::pair<int64_t, int>> warmed_;      // (sweep, look) whose designs are made
  std::set<int64_t> warming_;                     // sweeps with a design thread running
  std::vector<std::thread> threads_;
};

}  // namespace avctl
