// The record's jobs: submitting a sweep, the ready queue, dispatch,
// cancelling and retrying.
#include "db/record.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "common/text.h"
#include "db/record_internal.h"
#include "common/protocol.h"

namespace avctl {

Result<SubmitOutcome> Record::SubmitSweep(const SweepSpec& spec, const Json& spec_json,
                                            const std::vector<ExpandedJob>& jobs, const std::string& source,
                                            double now) {
  AVCTL_ASSIGN_OR_RETURN(JobResources resources, ParseJobResources(spec.resources, "resources"));
  AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  SubmitOutcome out;
  out.total = static_cast<int>(jobs.size());
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef find, cache_->Get("SELECT id FROM sweeps WHERE name = ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*find, spec.name));
    AVCTL_ASSIGN_OR_RETURN(bool row, find->Step());
    if (row) out.sweep_id = find->ColumnInt(0);
  }
  Json comparisons = Json::array();
  for (const auto& c : spec.comparisons) {
    comparisons.push_back(
        {{"variant", c.variant}, {"baselines", c.baselines}, {"metric", c.metric}, {"direction", c.direction},
         {"min_effect", c.min_effect}});
    if (!c.point.empty()) comparisons.back()["point"] = c.point;
  }
  if (out.sweep_id == 0) {
    AVCTL_ASSIGN_OR_RETURN(StatementRef ins, cache_->Get(
        "INSERT INTO sweeps (name, spec, source, priority, alpha, comparisons, dataset, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    AVCTL_RETURN_IF_ERROR(BindRow(*ins, spec.name, spec_json.dump(), source, spec.priority, spec.alpha,
                                         comparisons.dump(), spec.dataset.dump(), now, now));
    AVCTL_RETURN_IF_ERROR(ins->Run());
    out.sweep_id = db_->LastInsertRowId();
    out.new_sweep = true;
  } else {
    {
      AVCTL_ASSIGN_OR_RETURN(StatementRef ds, cache_->Get("SELECT dataset FROM sweeps WHERE id = ?"));
      AVCTL_RETURN_IF_ERROR(BindRow(*ds, out.sweep_id));
      AVCTL_ASSIGN_OR_RETURN(bool row, ds->Step());
      if (row && ds->ColumnText(0) != spec.dataset.dump()) {
        return Status::FailedPrecondition(fmt::format(
            "the sweep \"{}\" is already in the record with the dataset {}: its results would mix datasets; give "
            "the changed sweep a new name", spec.name, ds->ColumnText(0))).WithField("dataset");
      }
    }
    AVCTL_ASSIGN_OR_RETURN(StatementRef up, cache_->Get(
        "UPDATE sweeps SET spec = ?, source = ?, priority = ?, alpha = ?, comparisons = ?, updated_at = ? "
        "WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*up, spec_json.dump(), source, spec.priority, spec.alpha, comparisons.dump(), now,
                                         out.sweep_id));
    AVCTL_RETURN_IF_ERROR(up->Run());
  }
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef v, cache_->Get(
        "INSERT INTO variants (sweep_id, name, preset, role, overrides) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (sweep_id, name) DO UPDATE SET preset = excluded.preset, role = excluded.role, "
        "overrides = excluded.overrides"));
    for (const auto& var : spec.variants) {
      v->Reset();
      AVCTL_RETURN_IF_ERROR(BindRow(*v, out.sweep_id, var.name, var.variant, var.role, var.overrides.dump()));
      AVCTL_RETURN_IF_ERROR(v->Run());
    }
  }
  AVCTL_ASSIGN_OR_RETURN(StatementRef find, cache_->Get("SELECT sweep_id, config FROM jobs WHERE key = ?"));
  AVCTL_ASSIGN_OR_RETURN(StatementRef ins, cache_->Get(
      "INSERT INTO jobs (sweep_id, key, variant, point, seed, partition, ord, kind, config, resources, state, "
      "max_attempts, created_at, updated_at, sleep_seconds, stage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  // A held sequential sweep's later stages wait for their looks
  // (coordinator/sequential_scheduler.h releases them).
  const bool hold_stages = spec.sequential && spec.sequential->release == StageRelease::kHeld;
  const std::string resources_json = JobResourcesToJson(resources).dump();
  for (size_t i = 0; i < jobs.size(); ++i) {
    const ExpandedJob& job = jobs[i];
    const std::string config = job.job.dump();  // the dataset is the sweep's (sweeps.dataset)
    find->Reset();
    AVCTL_RETURN_IF_ERROR(BindRow(*find, job.key));
    AVCTL_ASSIGN_OR_RETURN(bool row, find->Step());
    if (row) {
      if (find->ColumnInt(0) != out.sweep_id || find->ColumnText(1) != config) {
        return Status::FailedPrecondition(fmt::format(
            "job {} is already in the record with another configuration: the sweep \"{}\" changed under the same "
            "name; give the changed sweep a new name", job.key, spec.name)).WithField(fmt::format("jobs[{}]", i));
      }
      ++out.existing;
      continue;
    }
    ins->Reset();
    const JobState state = hold_stages && job.stage > 0 ? JobState::kHeld : JobState::kQueued;
    AVCTL_RETURN_IF_ERROR(BindRow(*ins, out.sweep_id, job.key, job.variant, job.point, static_cast<int64_t>(job.seed),
                                  job.partition, static_cast<int64_t>(i), JobKindName(job.kind), config,
                                  resources_json, JobStateName(state), spec.max_attempts, now, now,
                                  spec.sleep_seconds, job.stage));
    AVCTL_RETURN_IF_ERROR(ins->Run());
    ++out.added;
  }
  AVCTL_RETURN_IF_ERROR(AddEvent("submit", fmt::format("sweep {}: {} jobs, {} new, {} already in the record",
                                                       spec.name, out.total, out.added, out.existing),
                                 now, out.sweep_id));
  AVCTL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

namespace {

// group_concat(worker_id, char(10)) as a list without repeats; "" (NULL): none.
std::vector<std::string> WorkerList(const std::string& joined) {
  std::vector<std::string> out;
  for (std::string_view id : SplitOn(joined, '\n')) {
    if (!id.empty() && std::find(out.begin(), out.end(), id) == out.end()) out.emplace_back(id);
  }
  return out;
}

// A row of the queued-job queries below, but its resources (column 4).
QueuedJob QueuedRow(Statement& q) {
  QueuedJob j;
  j.job_id = q.ColumnInt(0);
  j.priority = static_cast<int>(q.ColumnInt(1));
  j.sweep_id = q.ColumnInt(2);
  j.order = q.ColumnInt(3);
  j.command = q.ColumnInt(5) != 0;
  j.avoid_workers = WorkerList(q.ColumnText(6));
  j.failed_on = WorkerList(q.ColumnText(7));
  return j;
}

}  // namespace

Result<QueuedJob> Record::QueuedJobOf(int64_t job_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT j.id, s.priority, j.sweep_id, j.ord, j.resources, j.kind = 'command', "
      "(SELECT group_concat(o.worker_id, char(10)) FROM attempts o WHERE o.job_id = j.id AND o.out_of_memory = 1), "
      "(SELECT group_concat(o.worker_id, char(10)) FROM attempts o WHERE o.job_id = j.id AND o.state = 'failed') "
      "FROM jobs j JOIN sweeps s ON s.id = j.sweep_id "
      "WHERE j.id = ?"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, job_id));
  AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return Status::NotFound(fmt::format("no job {}", job_id));
  QueuedJob j = QueuedRow(*q);
  AVCTL_ASSIGN_OR_RETURN(j.resources, StoredResources(q->ColumnText(4), j.job_id));
  return j;
}

Result<std::vector<QueuedJob>> Record::QueuedJobs() {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT j.id, s.priority, j.sweep_id, j.ord, j.resources, j.kind = 'command', "
      "(SELECT group_concat(o.worker_id, char(10)) FROM attempts o WHERE o.job_id = j.id AND o.out_of_memory = 1), "
      "(SELECT group_concat(o.worker_id, char(10)) FROM attempts o WHERE o.job_id = j.id AND o.state = 'failed') "
      "FROM jobs j JOIN sweeps s ON s.id = j.sweep_id "
      "WHERE j.state = 'queued'"));
  std::vector<QueuedJob> out;
  std::map<std::string, JobResources> parsed;  // few distinct resource specs
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    QueuedJob j = QueuedRow(*q);
    const std::string res = q->ColumnText(4);
    auto it = parsed.find(res);
    if (it == parsed.end()) {
      AVCTL_ASSIGN_OR_RETURN(JobResources r, StoredResources(res, j.job_id));
      it = parsed.emplace(res, r).first;
    }
    j.resources = it->second;
    out.push_back(j);
  }
  return out;
}

Result<std::vector<RunningAttempt>> Record::RunningAttempts() {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT a.id, a.job_id, a.worker_id, a.started_at, j.resources FROM attempts a JOIN jobs j ON j.id = a.job_id "
      "WHERE a.state = 'running' ORDER BY a.id"));
  std::vector<RunningAttempt> out;
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    RunningAttempt a{q->ColumnInt(0), q->ColumnInt(1), q->ColumnText(2), q->ColumnDouble(3), 0};
    AVCTL_ASSIGN_OR_RETURN(JobResources res, StoredResources(q->ColumnText(4), a.job_id));
    a.memory_mb = res.memory_mb;
    out.push_back(a);
  }
  return out;
}

Result<JobView> Record::LoadJobView(int64_t job_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT state, attempts, max_attempts, COALESCE(current_attempt, 0), "
      "EXISTS (SELECT 1 FROM results r WHERE r.job_id = jobs.id) FROM jobs WHERE id = ?"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, job_id));
  AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return Status::NotFound(fmt::format("no job {}", job_id));
  JobView v;
  AVCTL_ASSIGN_OR_RETURN(v.state, ParseJobState(q->ColumnText(0)));
  v.attempts = static_cast<int>(q->ColumnInt(1));
  v.max_attempts = static_cast<int>(q->ColumnInt(2));
  v.current_attempt = q->ColumnInt(3);
  v.has_result = q->ColumnInt(4) != 0;
  return v;
}

Result<DispatchInfo> Record::Dispatch(int64_t job_id, const std::string& worker_id, double now) {
  AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  DispatchInfo d;
  {
    // One read for the state check and the job message: the job JSON and the
    // sweep's dataset go out as stored, without a parse.
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT j.state, j.key, j.kind, j.config, s.dataset, j.sleep_seconds FROM jobs j "
        "JOIN sweeps s ON s.id = j.sweep_id WHERE j.id = ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, job_id));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) return Status::NotFound(fmt::format("no job {}", job_id));
    JobView view;
    AVCTL_ASSIGN_OR_RETURN(view.state, ParseJobState(q->ColumnText(0)));
    AVCTL_RETURN_IF_ERROR(CheckDispatch(view));
    d.job_id = job_id;
    d.job_key = q->ColumnText(1);
    AVCTL_ASSIGN_OR_RETURN(d.kind, ParseJobKind(q->ColumnText(2), "jobs.kind"));
    d.job_raw = q->ColumnText(3);
    d.dataset_raw = q->ColumnText(4);
    d.sleep_seconds = q->ColumnDouble(5);
  }
  if (d.kind == JobKind::kTrain) {
    // Where the job's earlier attempts got furthest, for the new one to resume.
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT checkpoint, id, checkpoint_epochs, checkpoint_batches FROM attempts "
        "WHERE job_id = ? AND checkpoint IS NOT NULL "
        "ORDER BY checkpoint_epochs DESC, checkpoint_batches DESC, id DESC LIMIT 1"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, job_id));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (row) {
      d.resume = ResumeHint{q->ColumnText(0), q->ColumnInt(1), static_cast<int>(q->ColumnInt(2)),
                            static_cast<int>(q->ColumnInt(3))};
    }
  }
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef ins, cache_->Get(
        "INSERT INTO attempts (job_id, worker_id, state, started_at) VALUES (?, ?, 'running', ?)"));
    AVCTL_RETURN_IF_ERROR(BindRow(*ins, job_id, worker_id, now));
    AVCTL_RETURN_IF_ERROR(ins->Run());
  }
  const int64_t attempt_id = db_->LastInsertRowId();
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef up, cache_->Get(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, current_attempt = ?, updated_at = ? "
        "WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*up, attempt_id, now, job_id));
    AVCTL_RETURN_IF_ERROR(up->Run());
  }
  AVCTL_RETURN_IF_ERROR(tx.Commit());
  d.attempt_id = attempt_id;
  return d;
}

Result<DispatchInfo> Record::AttemptInfo(int64_t attempt_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT j.id, j.key, j.kind, j.config, j.resources, s.dataset FROM attempts a JOIN jobs j ON j.id = a.job_id "
      "JOIN sweeps s ON s.id = j.sweep_id WHERE a.id = ?"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, attempt_id));
  AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return Status::NotFound(fmt::format("no attempt {}", attempt_id));
  DispatchInfo d;
  d.attempt_id = attempt_id;
  d.job_id = q->ColumnInt(0);
  d.job_key = q->ColumnText(1);
  AVCTL_ASSIGN_OR_RETURN(d.kind, ParseJobKind(q->ColumnText(2), "jobs.kind"));
  d.job_raw = q->ColumnText(3);
  d.dataset_raw = q->ColumnText(5);
  d.job = ParseStored(d.job_raw);
  d.dataset = ParseStored(d.dataset_raw);
  AVCTL_ASSIGN_OR_RETURN(d.resources, StoredResources(q->ColumnText(4), d.job_id));
  return d;
}

Result<AttemptRow> Record::GetAttempt(int64_t attempt_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT a.job_id, a.worker_id, a.state, j.state, j.resources FROM attempts a JOIN jobs j ON j.id = a.job_id "
      "WHERE a.id = ?"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, attempt_id));
  AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return Status::NotFound(fmt::format("no attempt {} in the record", attempt_id));
  AttemptRow a;
  a.attempt_id = attempt_id;
  a.job_id = q->ColumnInt(0);
  a.worker_id = q->ColumnText(1);
  AVCTL_ASSIGN_OR_RETURN(a.state, ParseAttemptState(q->ColumnText(2)));
  AVCTL_ASSIGN_OR_RETURN(a.job_state, ParseJobState(q->ColumnText(3)));
  AVCTL_ASSIGN_OR_RETURN(JobResources res, StoredResources(q->ColumnText(4), a.job_id));
  a.memory_mb = res.memory_mb;
  return a;
}

Result<int64_t> Record::ResolveSweep(const std::string& ref) {
  const bool numeric = !ref.empty() && std::all_of(ref.begin(), ref.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  std::optional<int64_t> id;
  if (numeric) {
    id = ParseInt64(ref);
    if (!id) {
      return Status::InvalidArgument(
                 fmt::format("sweep \"{}\": an id is at most {} (or name the sweep)", SanitizeText(ref, 40), INT64_MAX))
          .WithField("sweep");
    }
  }
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(numeric ? "SELECT id FROM sweeps WHERE id = ?"
                                                           : "SELECT id FROM sweeps WHERE name = ?"));
  if (numeric) {
    AVCTL_RETURN_IF_ERROR(BindRow(*q, *id));
  } else {
    AVCTL_RETURN_IF_ERROR(BindRow(*q, ref));
  }
  AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) {
    return Status::NotFound(
        fmt::format("no sweep \"{}\" in the record (see avctl sweep list)", SanitizeText(ref, 80)));
  }
  return q->ColumnInt(0);
}

Result<std::vector<Followup>> Record::CancelSweep(int64_t sweep_id, double now) {
  AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  std::vector<Followup> out;
  std::vector<int64_t> ids;
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT id FROM jobs WHERE sweep_id = ? AND state IN ('queued', 'running', 'held')"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      ids.push_back(q->ColumnInt(0));
    }
  }
  AVCTL_ASSIGN_OR_RETURN(StatementRef cancel_attempt, cache_->Get(
      "UPDATE attempts SET state = 'cancelled', ended_at = ?, reason = 'cancelled by the user' "
      "WHERE id = ? AND state = 'running' RETURNING worker_id"));
  AVCTL_ASSIGN_OR_RETURN(StatementRef up, cache_->Get(
      "UPDATE jobs SET state = 'cancelled', current_attempt = NULL, reason = 'cancelled by the user', "
      "updated_at = ? WHERE id = ?"));
  for (int64_t id : ids) {
    AVCTL_ASSIGN_OR_RETURN(JobView view, LoadJobView(id));
    Followup f;
    f.job_id = id;
    f.transition = OnCancel(view);
    if (f.transition.cancel_current) {
      cancel_attempt->Reset();
      AVCTL_RETURN_IF_ERROR(BindRow(*cancel_attempt, now, view.current_attempt));
      AVCTL_ASSIGN_OR_RETURN(bool row, cancel_attempt->Step());
      if (row) {
        f.cancel_attempt = view.current_attempt;
        f.cancel_worker = cancel_attempt->ColumnText(0);
      }
      cancel_attempt->Reset();
    }
    up->Reset();
    AVCTL_RETURN_IF_ERROR(BindRow(*up, now, id));
    AVCTL_RETURN_IF_ERROR(up->Run());
    out.push_back(f);
  }
  AVCTL_RETURN_IF_ERROR(AddEvent("cancel", fmt::format("{} job(s) cancelled by the user", out.size()), now, sweep_id));
  AVCTL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<Record::RetryOutcome> Record::RetrySweep(int64_t sweep_id, double now, bool sequential) {
  AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  std::vector<int64_t> ids;
  JobView failed;
  failed.state = JobState::kFailed;
  const JobState to = OnRetry(failed, sequential).value_or(JobState::kQueued);
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "UPDATE jobs SET state = ?, attempts = 0, reason = NULL, updated_at = ? "
        "WHERE sweep_id = ? AND state IN ('failed', 'cancelled') RETURNING id"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, JobStateName(to), now, sweep_id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      ids.push_back(q->ColumnInt(0));
    }
  }
  RetryOutcome out;
  out.retried = static_cast<int64_t>(ids.size());
  if (to == JobState::kQueued) {
    for (int64_t id : ids) {
      AVCTL_ASSIGN_OR_RETURN(QueuedJob q, QueuedJobOf(id));
      out.queued.push_back(q);
    }
  }
  AVCTL_RETURN_IF_ERROR(AddEvent("retry", fmt::format("{} failed or cancelled job(s) {}", ids.size(),
                                                      to == JobState::kQueued ? "requeued" : "held for their stage's release"),
                                 now, sweep_id));
  AVCTL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

}  // namespace avctl
