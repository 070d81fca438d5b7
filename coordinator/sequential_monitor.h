// The decisions of one group-sequential sweep, pure (no record, no clock):
// which looks can be analysed, what each look decides (group-sequential
// Holm over the report's family of tests, common/sequential_family.h), and
// which jobs each group of runs still needs. The scheduler
// (coordinator/sequential_scheduler.h) reads the record, asks, and applies.
//
// Stages: a job's stage is the first look its pairs count at
// (sweeps/sequential_spec.h, StageOfSeed). Look k is analysed when every job
// of stage <= k of every group still under test has ended: done, failed for
// good (its pairs are lost and the look spends by the pairs reached), or
// not needed. A queued, running, held or cancelled one keeps it waiting
// (a cancelled sweep pauses until `sweep retry`).
//
// Releases: with "release": "held", a group under test gets stage k + 1
// once look k is analysed; with "speculative", every stage at once. A group
// all of whose tests are decided keeps the stages through its last decision
// and its later jobs end "not needed"; a group in no test runs every stage.
//
// Restart: Make replays the stored looks' data through the family, so a
// coordinator that restarts mid-look derives the same state and decisions;
// a stored look that no longer fits the spec is an error naming it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/sequential_family.h"
#include "common/status.h"
#include "db/record.h"
#include "sweeps/result_rows.h"
#include "sweeps/sequential_look.h"
#include "sweeps/sweep_spec.h"
#include "web/report_analysis.h"

namespace avctl {

struct GroupRelease {
  GroupKey group;
  int through_stage = 0;  // its held jobs of stages <= this are released
  bool decided = false;   // every test on it is decided: its jobs past through_stage are not needed
  std::string reason;     // why they are not needed (decided only)
};

class SequentialMonitor {
 public:
  // `spec` has "sequential"; `groups`: every (variant, point) of its jobs in
  // the sweep's order; `looks`: the looks stored so far, in order.
  static Result<std::unique_ptr<SequentialMonitor>> Make(const SweepSpec& spec, const std::vector<GroupKey>& groups,
                                                         const std::vector<SequentialLook>& looks,
                                                         SequentialDesignCache* cache = nullptr);

  int looks_analysed() const { return family_.looks_analysed(); }
  int looks_planned() const { return static_cast<int>(seq_.design.looks.size()); }
  // Every look analysed, or every test decided.
  bool finished() const;
  const std::vector<GroupTest>& tests() const { return tests_; }
  const SequentialFamily& family() const { return family_; }
  const SequentialSweep& sequential() const { return seq_; }

  // The stage of a seed of the sweep (-1: not one of its seeds).
  int StageOf(uint64_t seed) const;
  // Whether the next look can be analysed, from the sweep's jobs by group,
  // stage and state (Record::StageCounts).
  bool NextLookReady(const std::vector<JobStageCount>& counts) const;
  // Analyses the next look from the sweep's stored results (those of later
  // stages are left out); the look to store. A test decided earlier keeps
  // the data of its decision (results that came after it, overrun of a
  // speculative release, change nothing, not even the record). The monitor
  // has moved on.
  Result<SequentialLook> AnalyseNextLook(const std::vector<ResultRow>& results);
  // What every group's jobs should be now, in the sweep's group order.
  std::vector<GroupRelease> Releases() const;

 private:
  SequentialMonitor(const SweepSpec& spec, std::vector<GroupKey> groups, std::vector<GroupTest> tests,
                    SequentialDesignCache* cache);
  // A test's look record after the family's last analysis.
  SequentialLook Snapshot(int look, const std::vector<LookData>& data, const std::vector<bool>& tested) const;
  bool UnderTest(const GroupKey& g) const;

  SequentialSweep seq_;
  std::vector<uint64_t> seeds_;
  int partitions_ = 1;
  std::vector<GroupKey> groups_;
  std::vector<GroupTest> tests_;
  SequentialFamily family_;
  SequentialLook last_;  // the last look analysed or replayed (none yet: no tests)
};

}  // namespace avctl
