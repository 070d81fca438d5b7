#include "coordinator/sequential_scheduler.h"

#include <fmt/format.h>

namespace avctl {

SequentialScheduler::SequentialScheduler(Record* record, WorkerBroker* broker, Logger* log, const Clock* clock,
                                         PostFn post)
    : record_(record), broker_(broker), log_(log), clock_(clock), post_(std::move(post)) {}

SequentialScheduler::~SequentialScheduler() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

Status SequentialScheduler::Load(int64_t sweep_id) {
  monitors_.erase(sweep_id);
  broken_.erase(sweep_id);
  Status st = [&]() -> Status {
    AVCTL_ASSIGN_OR_RETURN(SequentialSweepRow row, record_->SequentialSweepOf(sweep_id));
    AVCTL_ASSIGN_OR_RETURN(SweepSpec spec, ParseSweepSpec(row.spec, row.source));
    AVCTL_ASSIGN_OR_RETURN(auto group_rows, record_->SweepGroups(sweep_id));
    std::vector<GroupKey> groups;
    for (const auto& [variant, point] : group_rows) groups.push_back({variant, point});
    AVCTL_ASSIGN_OR_RETURN(std::vector<SequentialLook> looks, record_->SequentialLooks(sweep_id));
    AVCTL_ASSIGN_OR_RETURN(auto m, SequentialMonitor::Make(spec, groups, looks, &designs_));
    monitors_[sweep_id] = std::move(m);
    specs_[sweep_id] = std::move(spec);
    groups_[sweep_id] = std::move(groups);
    return Status::OK();
  }();
  if (!st.ok()) {
    // Its held jobs stay held and its status says why; other sweeps go on.
    broken_[sweep_id] = st.ToString();
    log_->Error("sequential sweep {}: its looks stop here: {}", sweep_id, st.ToString());
  }
  return st;
}

Status SequentialScheduler::Reload() {
  monitors_.clear();
  broken_.clear();
  touched_.clear();
  AVCTL_ASSIGN_OR_RETURN(std::vector<SequentialSweepRow> rows, record_->SequentialSweeps());
  for (const auto& row : rows) {
    if (Load(row.id).ok()) touched_.insert(row.id);
  }
  return Status::OK();
}

void SequentialScheduler::OnSubmitted(int64_t sweep_id) {
  if (Load(sweep_id).ok()) touched_.insert(sweep_id);
}

void SequentialScheduler::Touch(int64_t sweep_id) {
  if (monitors_.count(sweep_id)) touched_.insert(sweep_id);
}

std::string SequentialScheduler::Broken(int64_t sweep_id) const {
  auto it = broken_.find(sweep_id);
  return it == broken_.end() ? "" : it->second;
}

void SequentialScheduler::Process() {
  std::set<int64_t> touched;
  touched.swap(touched_);
  for (int64_t id : touched) {
    if (Status st = ProcessSweep(id); !st.ok()) {
      log_->Error("sequential sweep {}: {}", id, st.ToString());
      touched_.insert(id);  // tried again after the next round's messages
    }
  }
}

Status SequentialScheduler::ApplyReleases(int64_t sweep_id, const SequentialMonitor& m) {
  const double now = clock_->Unix();
  for (const GroupRelease& r : m.Releases()) {
    AVCTL_ASSIGN_OR_RETURN(auto released,
                           record_->ReleaseHeld(sweep_id, r.group.variant, r.group.point, r.through_stage, now));
    broker_->Enqueue(released);
    if (!r.decided) continue;
    AVCTL_ASSIGN_OR_RETURN(auto ended, record_->EndNotNeeded(sweep_id, r.group.variant, r.group.point,
                                                              r.through_stage, r.reason, now));
    for (int64_t id : ended) broker_->Dequeue(id);
    if (!ended.empty()) {
      const std::string msg = fmt::format("{}: {} job(s) {}", GroupLabel(r.group.variant, r.group.point),
                                          ended.size(), r.reason);
      log_->Info("sweep {}: {}", sweep_id, msg);
      AVCTL_RETURN_IF_ERROR(record_->AddEvent("not_needed", msg, now, sweep_id));
    }
  }
  return Status::OK();
}

Result<bool> SequentialScheduler::DesignsReady(int64_t sweep_id, const SequentialMonitor& m,
                                               const std::vector<ResultRow>& results) {
  const int look = m.looks_analysed();
  if (!m.sequential().design.strict || !post_ || warmed_.count({sweep_id, look})) return true;
  if (warming_.count(sweep_id)) return false;
  AVCTL_ASSIGN_OR_RETURN(std::vector<SequentialLook> looks, record_->SequentialLooks(sweep_id));
  warming_.insert(sweep_id);
  log_->Info("sweep {}: look {} is ready; its strict designs are being calibrated off the loop", sweep_id, look + 1);
  // Copies: the thread touches neither the record nor this scheduler, only
  // the design cache (thread-safe), and posts its end to the loop.
  threads_.emplace_back([this, sweep_id, look, spec = specs_.at(sweep_id), groups = groups_.at(sweep_id),
                         looks = std::move(looks), results]() {
    std::string error;
    auto copy = SequentialMonitor::Make(spec, groups, looks, &designs_);
    if (!copy.ok()) {
      error = copy.status().ToString();
    } else if (auto done = (*copy)->AnalyseNextLook(results); !done.ok()) {
      error = done.status().ToString();
    }
    post_([this, sweep_id, look, error] {
      warming_.erase(sweep_id);
      warmed_.insert({sweep_id, look});  // an error shows again, in the loop, where it is handled
      if (!error.empty()) log_->Warn("sweep {}: calibrating look {}'s designs: {}", sweep_id, look + 1, error);
      touched_.insert(sweep_id);
    });
  });
  return false;
}

Status SequentialScheduler::ProcessSweep(int64_t sweep_id) {
  auto it = monitors_.find(sweep_id);
  if (it == monitors_.end()) return Status::OK();
  SequentialMonitor& m = *it->second;
  // A look may free the next one at once (its stage's jobs all failed, or a
  // variant decided): analyse while looks are ready.
  for (int guard = 0; guard <= m.looks_planned(); ++guard) {
    AVCTL_RETURN_IF_ERROR(ApplyReleases(sweep_id, m));
    AVCTL_ASSIGN_OR_RETURN(auto counts, record_->StageCounts(sweep_id));
    if (!m.NextLookReady(counts)) return Status::OK();
    AVCTL_ASSIGN_OR_RETURN(auto results, record_->Results(sweep_id));
    AVCTL_ASSIGN_OR_RETURN(bool designs_ready, DesignsReady(sweep_id, m, results));
    if (!designs_ready) return Status::OK();  // analysed when the design thread posts back
    AVCTL_ASSIGN_OR_RETURN(SequentialLook look, m.AnalyseNextLook(results));
    const double now = clock_->Unix();
    Status stored = record_->AddSequentialLook(sweep_id, look, now);
    if (!stored.ok()) {
      // The monitor moved on and the record did not: read it again.
      (void)Load(sweep_id);
      return stored;
    }
    std::string decided;
    for (const LookTest& t : look.tests) {
      if (t.decided_look == look.look) {
        decided += fmt::format("{}{} vs {}: {} (p {:.4g}, bound {:.4g}, {} pairs)", decided.empty() ? "" : "; ",
                               t.variant, t.baseline, t.decision, t.p, t.bound_p, t.pairs);
      }
    }
    const std::string msg = fmt::format("look {} of {} ({} pairs planned) analysed{}{}", look.look + 1,
                                        m.looks_planned(), look.planned_pairs, decided.empty() ? "" : ": ",
                                        decided.empty() ? "every comparison continues" : decided);
    log_->Info("sweep {}: {}", sweep_id, msg);
    AVCTL_RETURN_IF_ERROR(record_->AddEvent("look", msg, now, sweep_id));
  }
  return Status::OK();
}

}  // namespace avctl
