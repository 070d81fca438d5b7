#include "db/record.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "common/text.h"
#include "sweeps/result_schema.h"

namespace avctl {

namespace {

// How many running jobs `SweepStatus` lists with their progress.
constexpr int64_t kStatusRunningRows = 50;

const char* kSchemaV1 = R"SQL(
CREATE TABLE sweeps (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  spec        TEXT NOT NULL,              -- the submitted spec (JSON)
  source      TEXT NOT NULL,              -- the file it came from
  priority    INTEGER NOT NULL DEFAULT 0,
  alpha       REAL NOT NULL DEFAULT 0.05,
  comparisons TEXT NOT NULL DEFAULT '[]',
  dataset     TEXT NOT NULL,
  created_at  REAL NOT NULL,
  updated_at  REAL NOT NULL
);
CREATE TABLE variants (
  sweep_id  INTEGER NOT NULL REFERENCES sweeps(id),
  name      TEXT NOT NULL,
  preset    TEXT NOT NULL,
  role      TEXT NOT NULL,
  overrides TEXT NOT NULL,
  PRIMARY KEY (sweep_id, name)
);
CREATE TABLE jobs (
  id              INTEGER PRIMARY KEY,
  sweep_id        INTEGER NOT NULL REFERENCES sweeps(id),
  key             TEXT NOT NULL UNIQUE,
  variant         TEXT NOT NULL,
  point           TEXT NOT NULL,
  seed            INTEGER NOT NULL,
  partition       INTEGER NOT NULL,
  ord             INTEGER NOT NULL,        -- seed-major position in the sweep
  kind            TEXT NOT NULL DEFAULT 'train',
  config          TEXT NOT NULL,           -- the job JSON
  resources       TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  max_attempts    INTEGER NOT NULL,
  current_attempt INTEGER,
  reason          TEXT,
  created_at      REAL NOT NULL,
  updated_at      REAL NOT NULL
);
CREATE INDEX jobs_by_sweep_state ON jobs (sweep_id, state);
CREATE INDEX jobs_by_state ON jobs (state);
CREATE TABLE workers (
  id            TEXT PRIMARY KEY,
  hostname      TEXT NOT NULL,
  pid           INTEGER NOT NULL,
  device        TEXT NOT NULL,
  gpu_name      TEXT NOT NULL,
  gpu_memory_mb INTEGER NOT NULL,
  slots         INTEGER NOT NULL,
  state         TEXT NOT NULL,             -- connected, draining, lost, gone
  info          TEXT NOT NULL,
  first_seen    REAL NOT NULL,
  last_seen     REAL NOT NULL
);
CREATE TABLE attempts (
  id         INTEGER PRIMARY KEY,
  job_id     INTEGER NOT NULL REFERENCES jobs(id),
  worker_id  TEXT NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'lost', 'cancelled')),
  started_at REAL NOT NULL,
  ended_at   REAL,
  reason     TEXT
);
CREATE INDEX attempts_by_job ON attempts (job_id);
CREATE INDEX attempts_running ON attempts (state) WHERE state = 'running';
CREATE TABLE epochs (
  attempt_id INTEGER NOT NULL REFERENCES attempts(id),
  epoch      INTEGER NOT NULL,
  data       TEXT NOT NULL,
  at         REAL NOT NULL,
  PRIMARY KEY (attempt_id, epoch)
);
CREATE TABLE results (
  job_id      INTEGER PRIMARY KEY REFERENCES jobs(id),   -- one result per job, ever
  attempt_id  INTEGER NOT NULL REFERENCES attempts(id),
  metrics     TEXT NOT NULL,             -- the test metrics (JSON)
  result      TEXT NOT NULL,             -- everything the worker returned
  received_at REAL NOT NULL
);
CREATE TABLE events (
  id         INTEGER PRIMARY KEY,
  at         REAL NOT NULL,
  kind       TEXT NOT NULL,
  sweep_id   INTEGER,
  job_id     INTEGER,
  attempt_id INTEGER,
  worker_id  TEXT,
  message    TEXT NOT NULL
);
CREATE INDEX events_by_sweep ON events (sweep_id);
)SQL";

Json ParseStored(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? Json(text) : j;
}

// A job's resources as the record stored them (JobResourcesToJson): text
// that does not parse back is damage to the record, said as such with the
// job, not a job that needs nothing.
Result<JobResources> StoredResources(const std::string& text, int64_t job_id) {
  auto r = ParseJobResources(ParseStored(text), "resources");
  if (!r.ok()) {
    return Status::Corruption(fmt::format("jobs.resources of job {} does not parse back ({}): {}", job_id,
                                          SanitizeText(text, 80), r.status().message()))
        .WithField("jobs.resources");
  }
  return r;
}

}  // namespace

Result<StatementRef> Record::Cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    AVCTL_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare(sql));
    it = cache_.emplace(sql, std::make_unique<Statement>(std::move(stmt))).first;
  }
  it->second->Reset();
  return StatementRef(it->second.get());
}

// Step 2: jobs_by_state duplicated jobs_by_sweep_state for every query but
// the start-up scan of queued jobs, and cost a page write per state change.
const char* kSchemaV2 = "DROP INDEX IF EXISTS jobs_by_state;";

// Step 3: benchmark jobs that sleep instead of training.
const char* kSchemaV3 = "ALTER TABLE jobs ADD COLUMN sleep_seconds REAL NOT NULL DEFAULT 0;";

// Step 4: `sweep status` counts jobs per variant and state from this index
// alone instead of reading every job row (each holds its config JSON).
const char* kSchemaV4 = "CREATE INDEX jobs_by_sweep_variant_state ON jobs (sweep_id, variant, state, ord);";

// Step 5: jobs_by_sweep_variant_state serves every per-sweep query that
// jobs_by_sweep_state served (cancel, retry, job lists, the running jobs of a
// status), each a scan of one sweep's index entries; the second index cost two
// more B-tree updates per state change on the dispatch path.
const char* kSchemaV5 = "DROP INDEX IF EXISTS jobs_by_sweep_state;";

// Step 6: the worker's measured compute time of a result (its
// compute_seconds, docs/PROTOCOL.md); the attempt's started_at/ended_at stay
// the coordinator's view (dispatch to end), which is short for a late result
// and long across a coordinator's outage. NULL for results stored before.
const char* kSchemaV6 = "ALTER TABLE results ADD COLUMN compute_seconds REAL;";

// Step 7 (resumable attempts): an attempt can end preempted, and records the
// checkpoint it resumed from and the last one it wrote. SQLite cannot change
// a CHECK constraint in place, so the table is rebuilt: with foreign keys
// deferred, the rows referring to attempts (epochs, results, jobs) find
// their parents again before the transaction commits.
const char* kSchemaV7 = R"SQL(
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE attempts_before_v7 AS SELECT * FROM attempts;
DROP TABLE attempts;
CREATE TABLE attempts (
  id                 INTEGER PRIMARY KEY,
  job_id             INTEGER NOT NULL REFERENCES jobs(id),
  worker_id          TEXT NOT NULL,
  state              TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'lost', 'cancelled', 'preempted')),
  started_at         REAL NOT NULL,
  ended_at           REAL,
  reason             TEXT,
  resumed_from       TEXT,      -- the checkpoint this attempt began from; NULL: from scratch (or not reported)
  resumed_epochs     INTEGER,   -- its position: whole epochs, and steps into the next
  resumed_batches    INTEGER,
  checkpoint         TEXT,      -- the last checkpoint this attempt wrote
  checkpoint_epochs  INTEGER,
  checkpoint_batches INTEGER
);
INSERT INTO attempts (id, job_id, worker_id, state, started_at, ended_at, reason)
  SELECT id, job_id, worker_id, state, started_at, ended_at, reason FROM attempts_before_v7;
DROP TABLE attempts_before_v7;
CREATE INDEX attempts_by_job ON attempts (job_id);
CREATE INDEX attempts_running ON attempts (state) WHERE state = 'running';
)SQL";

const std::vector<std::string>& RecordSchemaSteps() {
  static const std::vector<std::string> steps = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4,
                                                 kSchemaV5, kSchemaV6, kSchemaV7};
  return steps;
}

Result<std::unique_ptr<Record>> Record::Open(const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(auto db, Database::Open(path));
  AVCTL_RETURN_IF_ERROR(Migrate(db.get(), RecordSchemaSteps()));
  return std::unique_ptr<Record>(new Record(std::move(db)));
}

Result<std::unique_ptr<Record>> Record::OpenReadOnly(const std::string& path) {
  DatabaseOptions o;
  o.read_only = true;
  AVCTL_ASSIGN_OR_RETURN(auto db, Database::Open(path, o));
  AVCTL_ASSIGN_OR_RETURN(int64_t version, UserVersion(db.get()));
  if (version != static_cast<int64_t>(RecordSchemaSteps().size())) {
    return Status::FailedPrecondition(fmt::format("record schema version {} (this avctl reads {}): run avcoord once "
                                                  "to migrate it", version, RecordSchemaSteps().size()))
        .WithFile(path);
  }
  return std::unique_ptr<Record>(new Record(std::move(db)));
}

Result<SubmitOutcome> Record::SubmitSweep(const SweepSpec& spec, const Json& spec_json,
                                            const std::vector<ExpandedJob>& jobs, const std::string& source,
                                            double now) {
  AVCTL_ASSIGN_OR_RETURN(JobResources resources, ParseJobResources(spec.resources, "resources"));
  AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  SubmitOutcome out;
  out.total = static_cast<int>(jobs.size());
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef find, Cached("SELECT id FROM sweeps WHERE name = ?"));
    AVCTL_RETURN_IF_ERROR(find->BindText(1, spec.name));
    AVCTL_ASSIGN_OR_RETURN(bool row, find->Step());
    if (row) out.sweep_id = find->ColumnInt(0);
  }
  Json comparisons = Json::array();
  for (const auto& c : spec.comparisons) {
    comparisons.push_back(
        {{"variant", c.variant}, {"baselines", c.baselines}, {"metric", c.metric}, {"direction", c.direction},
         {"min_effect", c.min_effect}});
  }
  if (out.sweep_id == 0) {
    AVCTL_ASSIGN_OR_RETURN(StatementRef ins, Cached(
        "INSERT INTO sweeps (name, spec, source, priority, alpha, comparisons, dataset, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    AVCTL_RETURN_IF_ERROR(ins->BindText(1, spec.name));
    AVCTL_RETURN_IF_ERROR(ins->BindText(2, spec_json.dump()));
    AVCTL_RETURN_IF_ERROR(ins->BindText(3, source));
    AVCTL_RETURN_IF_ERROR(ins->BindInt(4, spec.priority));
    AVCTL_RETURN_IF_ERROR(ins->BindDouble(5, spec.alpha));
    AVCTL_RETURN_IF_ERROR(ins->BindText(6, comparisons.dump()));
    AVCTL_RETURN_IF_ERROR(ins->BindText(7, spec.dataset.dump()));
    AVCTL_RETURN_IF_ERROR(ins->BindDouble(8, now));
    AVCTL_RETURN_IF_ERROR(ins->BindDouble(9, now));
    AVCTL_RETURN_IF_ERROR(ins->Run());
    out.sweep_id = db_->LastInsertRowId();
    out.new_sweep = true;
  } else {
    {
      AVCTL_ASSIGN_OR_RETURN(StatementRef ds, Cached("SELECT dataset FROM sweeps WHERE id = ?"));
      AVCTL_RETURN_IF_ERROR(ds->BindInt(1, out.sweep_id));
      AVCTL_ASSIGN_OR_RETURN(bool row, ds->Step());
      if (row && ds->ColumnText(0) != spec.dataset.dump()) {
        return Status::FailedPrecondition(fmt::format(
            "the sweep \"{}\" is already in the record with the dataset {}: its results would mix datasets; give "
            "the changed sweep a new name", spec.name, ds->ColumnText(0))).WithField("dataset");
      }
    }
    AVCTL_ASSIGN_OR_RETURN(StatementRef up, Cached(
        "UPDATE sweeps SET spec = ?, source = ?, priority = ?, alpha = ?, comparisons = ?, updated_at = ? "
        "WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(up->BindText(1, spec_json.dump()));
    AVCTL_RETURN_IF_ERROR(up->BindText(2, source));
    AVCTL_RETURN_IF_ERROR(up->BindInt(3, spec.priority));
    AVCTL_RETURN_IF_ERROR(up->BindDouble(4, spec.alpha));
    AVCTL_RETURN_IF_ERROR(up->BindText(5, comparisons.dump()));
    AVCTL_RETURN_IF_ERROR(up->BindDouble(6, now));
    AVCTL_RETURN_IF_ERROR(up->BindInt(7, out.sweep_id));
    AVCTL_RETURN_IF_ERROR(up->Run());
  }
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef v, Cached(
        "INSERT INTO variants (sweep_id, name, preset, role, overrides) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (sweep_id, name) DO UPDATE SET preset = excluded.preset, role = excluded.role, "
        "overrides = excluded.overrides"));
    for (const auto& var : spec.variants) {
      v->Reset();
      AVCTL_RETURN_IF_ERROR(v->BindInt(1, out.sweep_id));
      AVCTL_RETURN_IF_ERROR(v->BindText(2, var.name));
      AVCTL_RETURN_IF_ERROR(v->BindText(3, var.variant));
      AVCTL_RETURN_IF_ERROR(v->BindText(4, var.role));
      AVCTL_RETURN_IF_ERROR(v->BindText(5, var.overrides.dump()));
      AVCTL_RETURN_IF_ERROR(v->Run());
    }
  }
  AVCTL_ASSIGN_OR_RETURN(StatementRef find, Cached("SELECT sweep_id, config FROM jobs WHERE key = ?"));
  AVCTL_ASSIGN_OR_RETURN(StatementRef ins, Cached(
      "INSERT INTO jobs (sweep_id, key, variant, point, seed, partition, ord, kind, config, resources, state, "
      "max_attempts, created_at, updated_at, sleep_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)"));
  const std::string resources_json = JobResourcesToJson(resources).dump();
  for (size_t i = 0; i < jobs.size(); ++i) {
    const ExpandedJob& job = jobs[i];
    const std::string config = job.job.dump();  // the dataset is the sweep's (sweeps.dataset)
    find->Reset();
    AVCTL_RETURN_IF_ERROR(find->BindText(1, job.key));
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
    AVCTL_RETURN_IF_ERROR(ins->BindInt(1, out.sweep_id));
    AVCTL_RETURN_IF_ERROR(ins->BindText(2, job.key));
    AVCTL_RETURN_IF_ERROR(ins->BindText(3, job.variant));
    AVCTL_RETURN_IF_ERROR(ins->BindText(4, job.point));
    AVCTL_RETURN_IF_ERROR(ins->BindInt(5, static_cast<int64_t>(job.seed)));
    AVCTL_RETURN_IF_ERROR(ins->BindInt(6, job.partition));
    AVCTL_RETURN_IF_ERROR(ins->BindInt(7, static_cast<int64_t>(i)));
    AVCTL_RETURN_IF_ERROR(ins->BindText(8, JobKindName(spec.kind)));
    AVCTL_RETURN_IF_ERROR(ins->BindText(9, config));
    AVCTL_RETURN_IF_ERROR(ins->BindText(10, resources_json));
    AVCTL_RETURN_IF_ERROR(ins->BindInt(11, spec.max_attempts));
    AVCTL_RETURN_IF_ERROR(ins->BindDouble(12, now));
    AVCTL_RETURN_IF_ERROR(ins->BindDouble(13, now));
    AVCTL_RETURN_IF_ERROR(ins->BindDouble(14, spec.sleep_seconds));
    AVCTL_RETURN_IF_ERROR(ins->Run());
    ++out.added;
  }
  AVCTL_RETURN_IF_ERROR(AddEvent("submit", fmt::format("sweep {}: {} jobs, {} new, {} already in the record",
                                                       spec.name, out.total, out.added, out.existing),
                                 now, out.sweep_id));
  AVCTL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<QueuedJob> Record::QueuedJobOf(int64_t job_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "SELECT j.id, s.priority, j.sweep_id, j.ord, j.resources FROM jobs j JOIN sweeps s ON s.id = j.sweep_id "
      "WHERE j.id = ?"));
  AVCTL_RETURN_IF_ERROR(q->BindInt(1, job_id));
  AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return Status::NotFound(fmt::format("no job {}", job_id));
  QueuedJob j{q->ColumnInt(0), static_cast<int>(q->ColumnInt(1)), q->ColumnInt(2), q->ColumnInt(3), {}};
  AVCTL_ASSIGN_OR_RETURN(j.resources, StoredResources(q->ColumnText(4), j.job_id));
  return j;
}

Result<std::vector<QueuedJob>> Record::QueuedJobs() {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "SELECT j.id, s.priority, j.sweep_id, j.ord, j.resources FROM jobs j JOIN sweeps s ON s.id = j.sweep_id "
      "WHERE j.state = 'queued'"));
  std::vector<QueuedJob> out;
  std::map<std::string, JobResources> parsed;  // few distinct resource specs
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    QueuedJob j{q->ColumnInt(0), static_cast<int>(q->ColumnInt(1)), q->ColumnInt(2), q->ColumnInt(3), {}};
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
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
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
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "SELECT state, attempts, max_attempts, COALESCE(current_attempt, 0), "
      "EXISTS (SELECT 1 FROM results r WHERE r.job_id = jobs.id) FROM jobs WHERE id = ?"));
  AVCTL_RETURN_IF_ERROR(q->BindInt(1, job_id));
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
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT j.state, j.key, j.kind, j.config, s.dataset, j.sleep_seconds FROM jobs j "
        "JOIN sweeps s ON s.id = j.sweep_id WHERE j.id = ?"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, job_id));
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
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT checkpoint, id, checkpoint_epochs, checkpoint_batches FROM attempts "
        "WHERE job_id = ? AND checkpoint IS NOT NULL "
        "ORDER BY checkpoint_epochs DESC, checkpoint_batches DESC, id DESC LIMIT 1"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, job_id));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (row) {
      d.resume = ResumeHint{q->ColumnText(0), q->ColumnInt(1), static_cast<int>(q->ColumnInt(2)),
                            static_cast<int>(q->ColumnInt(3))};
    }
  }
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef ins, Cached(
        "INSERT INTO attempts (job_id, worker_id, state, started_at) VALUES (?, ?, 'running', ?)"));
    AVCTL_RETURN_IF_ERROR(ins->BindInt(1, job_id));
    AVCTL_RETURN_IF_ERROR(ins->BindText(2, worker_id));
    AVCTL_RETURN_IF_ERROR(ins->BindDouble(3, now));
    AVCTL_RETURN_IF_ERROR(ins->Run());
  }
  const int64_t attempt_id = db_->LastInsertRowId();
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef up, Cached(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, current_attempt = ?, updated_at = ? "
        "WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(up->BindInt(1, attempt_id));
    AVCTL_RETURN_IF_ERROR(up->BindDouble(2, now));
    AVCTL_RETURN_IF_ERROR(up->BindInt(3, job_id));
    AVCTL_RETURN_IF_ERROR(up->Run());
  }
  AVCTL_RETURN_IF_ERROR(tx.Commit());
  d.attempt_id = attempt_id;
  return d;
}

Result<DispatchInfo> Record::AttemptInfo(int64_t attempt_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "SELECT j.id, j.key, j.kind, j.config, j.resources, s.dataset FROM attempts a JOIN jobs j ON j.id = a.job_id "
      "JOIN sweeps s ON s.id = j.sweep_id WHERE a.id = ?"));
  AVCTL_RETURN_IF_ERROR(q->BindInt(1, attempt_id));
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
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "SELECT a.job_id, a.worker_id, a.state, j.state, j.resources FROM attempts a JOIN jobs j ON j.id = a.job_id "
      "WHERE a.id = ?"));
  AVCTL_RETURN_IF_ERROR(q->BindInt(1, attempt_id));
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

Result<Followup> Record::ApplyEnd(int64_t attempt_id, double now, const std::string& event_kind,
                                  const std::function<Transition(const JobView&, AttemptState)>& decide,
                                  const Json* result, const std::string& sender) {
  AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  int64_t job_id = 0, sweep_id = 0;
  AttemptState attempt_state;
  std::string worker;
  JobView view;
  JobKind kind = JobKind::kTrain;
  {
    // The attempt and its job's state in one read.
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT a.job_id, a.state, a.worker_id, j.sweep_id, j.state, j.attempts, j.max_attempts, "
        "COALESCE(j.current_attempt, 0), EXISTS (SELECT 1 FROM results r WHERE r.job_id = j.id), j.kind "
        "FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE a.id = ?"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, attempt_id));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) return Status::NotFound(fmt::format("no attempt {} in the record", attempt_id)).WithField("attempt_id");
    job_id = q->ColumnInt(0);
    AVCTL_ASSIGN_OR_RETURN(attempt_state, ParseAttemptState(q->ColumnText(1)));
    worker = q->ColumnText(2);
    sweep_id = q->ColumnInt(3);
    AVCTL_ASSIGN_OR_RETURN(view.state, ParseJobState(q->ColumnText(4)));
    view.attempts = static_cast<int>(q->ColumnInt(5));
    view.max_attempts = static_cast<int>(q->ColumnInt(6));
    view.current_attempt = q->ColumnInt(7);
    view.has_result = q->ColumnInt(8) != 0;
    AVCTL_ASSIGN_OR_RETURN(kind, ParseJobKind(q->ColumnText(9), "jobs.kind"));
  }
  Followup f;
  f.job_id = job_id;
  Status schema = result != nullptr ? ValidateResult(*result, kind) : Status::OK();
  if (schema.ok()) {
    f.transition = decide(view, attempt_state);
  } else {
    // Not stored: a report without its metrics would show nothing. The
    // worker's software is at fault, not the job: retried elsewhere.
    f.transition = OnFailure(view, attempt_id, attempt_state, FailureKind::kWorker,
                             "its result does not meet the result schema (docs/PROTOCOL.md): " + schema.message());
    result = nullptr;
  }
  const Transition& t = f.transition;
  {
    // An attempt's end is recorded once: a second report of the same end
    // (a resent result after a lost ack) changes nothing. A lost attempt
    // stays lost unless its result arrives late.
    AVCTL_ASSIGN_OR_RETURN(StatementRef up, Cached(
        t.attempt == AttemptState::kSucceeded
            ? "UPDATE attempts SET state = ?, ended_at = COALESCE(ended_at, ?), reason = COALESCE(?, reason) "
              "WHERE id = ? AND state IN ('running', 'lost')"
            : "UPDATE attempts SET state = ?, ended_at = COALESCE(ended_at, ?), reason = COALESCE(?, reason) "
              "WHERE id = ? AND state = 'running'"));
    AVCTL_RETURN_IF_ERROR(up->BindText(1, AttemptStateName(t.attempt)));
    AVCTL_RETURN_IF_ERROR(up->BindDouble(2, now));
    if (t.note.empty()) {
      AVCTL_RETURN_IF_ERROR(up->BindNull(3));
    } else {
      AVCTL_RETURN_IF_ERROR(up->BindText(3, t.note));
    }
    AVCTL_RETURN_IF_ERROR(up->BindInt(4, attempt_id));
    AVCTL_RETURN_IF_ERROR(up->Run());
  }
  if (t.store_result && result != nullptr) {
    AVCTL_ASSIGN_OR_RETURN(StatementRef ins, Cached(
        "INSERT INTO results (job_id, attempt_id, metrics, result, received_at, compute_seconds) "
        "VALUES (?, ?, ?, ?, ?, ?)"));
    Json metrics = Json::object();
    if (result->contains("test") && (*result)["test"].is_object() && (*result)["test"].contains("metrics")) {
      metrics = (*result)["test"]["metrics"];
    } else if (result->contains("metrics")) {
      metrics = (*result)["metrics"];
    }
    AVCTL_RETURN_IF_ERROR(ins->BindInt(1, job_id));
    AVCTL_RETURN_IF_ERROR(ins->BindInt(2, attempt_id));
    AVCTL_RETURN_IF_ERROR(ins->BindText(3, metrics.dump()));
    AVCTL_RETURN_IF_ERROR(ins->BindText(4, result->dump()));
    AVCTL_RETURN_IF_ERROR(ins->BindDouble(5, now));
    if (result->contains("compute_seconds") && (*result)["compute_seconds"].is_number()) {
      AVCTL_RETURN_IF_ERROR(ins->BindDouble(6, (*result)["compute_seconds"].get<double>()));
    } else {
      AVCTL_RETURN_IF_ERROR(ins->BindNull(6));
    }
    AVCTL_RETURN_IF_ERROR(ins->Run());
    f.result_stored = true;
    // Where the attempt began, from the result itself: the "resumed"
    // progress line says it too, but progress is not kept until
    // acknowledged, so it can be lost with a reconnect.
    const Json& resume = result->contains("resume") ? (*result)["resume"] : Json();
    if (resume.is_object() && resume.value("resumed", false) && resume.contains("from") && resume["from"].is_string() &&
        resume.contains("epochs") && resume["epochs"].is_number_integer()) {
      AVCTL_ASSIGN_OR_RETURN(StatementRef up, Cached(
          "UPDATE attempts SET resumed_from = ?, resumed_epochs = ?, resumed_batches = ? WHERE id = ?"));
      AVCTL_RETURN_IF_ERROR(up->BindText(1, resume["from"].get<std::string>()));
      AVCTL_RETURN_IF_ERROR(up->BindInt(2, resume["epochs"].get<int64_t>()));
      AVCTL_RETURN_IF_ERROR(up->BindInt(3, resume.value("batches", int64_t{0})));
      AVCTL_RETURN_IF_ERROR(up->BindInt(4, attempt_id));
      AVCTL_RETURN_IF_ERROR(up->Run());
    }
  }
  if (t.cancel_current) {
    f.cancel_attempt = view.current_attempt;
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "UPDATE attempts SET state = 'cancelled', ended_at = ?, reason = ? WHERE id = ? AND state = 'running' "
        "RETURNING worker_id"));
    AVCTL_RETURN_IF_ERROR(q->BindDouble(1, now));
    AVCTL_RETURN_IF_ERROR(q->BindText(2, fmt::format("superseded by attempt {}", attempt_id)));
    AVCTL_RETURN_IF_ERROR(q->BindInt(3, view.current_attempt));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (row) f.cancel_worker = q->ColumnText(0);
    q->Reset();
  }
  if (t.job != view.state || t.clear_current) {
    AVCTL_ASSIGN_OR_RETURN(StatementRef up, Cached(
        "UPDATE jobs SET state = ?, current_attempt = CASE WHEN ? THEN NULL ELSE current_attempt END, "
        "reason = CASE WHEN ? IN ('failed', 'queued') THEN ? WHEN ? = 'done' THEN NULL ELSE reason END, updated_at = ? "
        "WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(up->BindText(1, JobStateName(t.job)));
    AVCTL_RETURN_IF_ERROR(up->BindInt(2, t.clear_current ? 1 : 0));
    AVCTL_RETURN_IF_ERROR(up->BindText(3, JobStateName(t.job)));
    AVCTL_RETURN_IF_ERROR(up->BindText(4, t.note));
    AVCTL_RETURN_IF_ERROR(up->BindText(5, JobStateName(t.job)));
    AVCTL_RETURN_IF_ERROR(up->BindDouble(6, now));
    AVCTL_RETURN_IF_ERROR(up->BindInt(7, job_id));
    AVCTL_RETURN_IF_ERROR(up->Run());
  }
  if (t.refund_attempt) {
    AVCTL_ASSIGN_OR_RETURN(StatementRef up, Cached("UPDATE jobs SET attempts = MAX(attempts - 1, 0) WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(up->BindInt(1, job_id));
    AVCTL_RETURN_IF_ERROR(up->Run());
  }
  if (t.job == JobState::kQueued && view.state != JobState::kQueued) {
    AVCTL_ASSIGN_OR_RETURN(QueuedJob q, QueuedJobOf(job_id));
    f.requeue = q;
  }
  // The attempts table records every end; the event log keeps what is worth
  // a look (failures, losses, requeues, late and duplicate results).
  if (!t.note.empty() || t.attempt != AttemptState::kSucceeded) {
    std::string message = t.note.empty() ? fmt::format("attempt {}: {}", attempt_id, AttemptStateName(t.attempt))
                                         : t.note;
    if (!sender.empty() && sender != worker) {
      message += fmt::format(" (reported by worker {}; the attempt ran on {})", sender, worker);
    }
    AVCTL_RETURN_IF_ERROR(AddEvent(schema.ok() ? event_kind : "failure", message, now, sweep_id, job_id, attempt_id,
                                   sender.empty() ? worker : sender));
  }
  AVCTL_RETURN_IF_ERROR(tx.Commit());
  return f;
}

Result<Followup> Record::RecordResult(int64_t attempt_id, const Json& result, const std::string& sender, double now,
                                      int64_t protocol) {
  if (protocol < 2 && result.is_object() && !result.contains("compute_seconds")) {
    double started = 0;
    {
      AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached("SELECT started_at FROM attempts WHERE id = ?"));
      AVCTL_RETURN_IF_ERROR(q->BindInt(1, attempt_id));
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) return Status::NotFound(fmt::format("no attempt {} in the record", attempt_id)).WithField("attempt_id");
      started = q->ColumnDouble(0);
    }
    Json filled = result;
    filled["compute_seconds"] = std::max(0.0, now - started);
    filled["compute_seconds_source"] = fmt::format(
        "the wall time from dispatch to result: a protocol-{} worker does not measure compute_seconds", protocol);
    return ApplyEnd(attempt_id, now, "result",
                    [&](const JobView& v, AttemptState a) { return OnResult(v, attempt_id, a); }, &filled, sender);
  }
  return ApplyEnd(attempt_id, now, "result",
                  [&](const JobView& v, AttemptState a) { return OnResult(v, attempt_id, a); }, &result, sender);
}

Result<Followup> Record::RecordFailure(int64_t attempt_id, FailureKind kind, const std::string& reason,
                                       const std::string& sender, double now) {
  return ApplyEnd(attempt_id, now, "failure",
                  [&](const JobView& v, AttemptState a) { return OnFailure(v, attempt_id, a, kind, reason); }, nullptr,
                  sender);
}

Result<Followup> Record::RecordLost(int64_t attempt_id, const std::string& reason, double now) {
  return ApplyEnd(attempt_id, now, "lost",
                  [&](const JobView& v, AttemptState a) { return OnLost(v, attempt_id, a, reason); }, nullptr);
}

Status Record::RecordProgress(int64_t attempt_id, const Json& progress, double now) {
  AVCTL_ASSIGN_OR_RETURN(int64_t epoch, GetInt(progress, "epoch", "progress"));
  for (const char* event : {"checkpoint", "resumed"}) {
    if (!progress.contains(event)) continue;
    // A checkpoint written, or the one the attempt began from: kept on the attempt.
    const Json& c = progress[event];
    const std::string field = std::string("progress.") + event;
    AVCTL_ASSIGN_OR_RETURN(std::string path, GetString(c, "path", field));
    AVCTL_ASSIGN_OR_RETURN(int64_t epochs, GetInt(c, "epochs", field));
    AVCTL_ASSIGN_OR_RETURN(int64_t batches, GetInt(c, "batches", field));
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        std::string(event) == "checkpoint"
            ? "UPDATE attempts SET checkpoint = ?, checkpoint_epochs = ?, checkpoint_batches = ? WHERE id = ?"
            : "UPDATE attempts SET resumed_from = ?, resumed_epochs = ?, resumed_batches = ? WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(q->BindText(1, path));
    AVCTL_RETURN_IF_ERROR(q->BindInt(2, epochs));
    AVCTL_RETURN_IF_ERROR(q->BindInt(3, batches));
    AVCTL_RETURN_IF_ERROR(q->BindInt(4, attempt_id));
    AVCTL_RETURN_IF_ERROR(q->Run());
    if (db_->Changes() == 0) return Status::NotFound(fmt::format("no attempt {} in the record", attempt_id));
    return Status::OK();
  }
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "INSERT INTO epochs (attempt_id, epoch, data, at) SELECT ?, ?, ?, ? WHERE EXISTS "
      "(SELECT 1 FROM attempts WHERE id = ?) ON CONFLICT (attempt_id, epoch) DO UPDATE SET data = excluded.data"));
  AVCTL_RETURN_IF_ERROR(q->BindInt(1, attempt_id));
  AVCTL_RETURN_IF_ERROR(q->BindInt(2, epoch));
  AVCTL_RETURN_IF_ERROR(q->BindText(3, progress.dump()));
  AVCTL_RETURN_IF_ERROR(q->BindDouble(4, now));
  AVCTL_RETURN_IF_ERROR(q->BindInt(5, attempt_id));
  AVCTL_RETURN_IF_ERROR(q->Run());
  if (db_->Changes() == 0) return Status::NotFound(fmt::format("no attempt {} in the record", attempt_id));
  return Status::OK();
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
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(numeric ? "SELECT id FROM sweeps WHERE id = ?"
                                                           : "SELECT id FROM sweeps WHERE name = ?"));
  if (numeric) {
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, *id));
  } else {
    AVCTL_RETURN_IF_ERROR(q->BindText(1, ref));
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
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT id FROM jobs WHERE sweep_id = ? AND state IN ('queued', 'running')"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, sweep_id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      ids.push_back(q->ColumnInt(0));
    }
  }
  AVCTL_ASSIGN_OR_RETURN(StatementRef cancel_attempt, Cached(
      "UPDATE attempts SET state = 'cancelled', ended_at = ?, reason = 'cancelled by the user' "
      "WHERE id = ? AND state = 'running' RETURNING worker_id"));
  AVCTL_ASSIGN_OR_RETURN(StatementRef up, Cached(
      "UPDATE jobs SET state = 'cancelled', current_attempt = NULL, reason = 'cancelled by the user', "
      "updated_at = ? WHERE id = ?"));
  for (int64_t id : ids) {
    AVCTL_ASSIGN_OR_RETURN(JobView view, LoadJobView(id));
    Followup f;
    f.job_id = id;
    f.transition = OnCancel(view);
    if (f.transition.cancel_current) {
      cancel_attempt->Reset();
      AVCTL_RETURN_IF_ERROR(cancel_attempt->BindDouble(1, now));
      AVCTL_RETURN_IF_ERROR(cancel_attempt->BindInt(2, view.current_attempt));
      AVCTL_ASSIGN_OR_RETURN(bool row, cancel_attempt->Step());
      if (row) {
        f.cancel_attempt = view.current_attempt;
        f.cancel_worker = cancel_attempt->ColumnText(0);
      }
      cancel_attempt->Reset();
    }
    up->Reset();
    AVCTL_RETURN_IF_ERROR(up->BindDouble(1, now));
    AVCTL_RETURN_IF_ERROR(up->BindInt(2, id));
    AVCTL_RETURN_IF_ERROR(up->Run());
    out.push_back(f);
  }
  AVCTL_RETURN_IF_ERROR(AddEvent("cancel", fmt::format("{} job(s) cancelled by the user", out.size()), now, sweep_id));
  AVCTL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<std::vector<QueuedJob>> Record::RetrySweep(int64_t sweep_id, double now) {
  AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  std::vector<int64_t> ids;
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "UPDATE jobs SET state = 'queued', attempts = 0, reason = NULL, updated_at = ? "
        "WHERE sweep_id = ? AND state IN ('failed', 'cancelled') RETURNING id"));
    AVCTL_RETURN_IF_ERROR(q->BindDouble(1, now));
    AVCTL_RETURN_IF_ERROR(q->BindInt(2, sweep_id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      ids.push_back(q->ColumnInt(0));
    }
  }
  std::vector<QueuedJob> out;
  for (int64_t id : ids) {
    AVCTL_ASSIGN_OR_RETURN(QueuedJob q, QueuedJobOf(id));
    out.push_back(q);
  }
  AVCTL_RETURN_IF_ERROR(AddEvent("retry", fmt::format("{} failed or cancelled job(s) requeued", out.size()), now,
                                 sweep_id));
  AVCTL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Status Record::UpsertWorker(const WorkerRecord& w, double now) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "INSERT INTO workers (id, hostname, pid, device, gpu_name, gpu_memory_mb, slots, state, info, first_seen, "
      "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, 'connected', ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
      "hostname = excluded.hostname, pid = excluded.pid, device = excluded.device, gpu_name = excluded.gpu_name, "
      "gpu_memory_mb = excluded.gpu_memory_mb, slots = excluded.slots, state = 'connected', info = excluded.info, "
      "last_seen = excluded.last_seen"));
  AVCTL_RETURN_IF_ERROR(q->BindText(1, w.id));
  AVCTL_RETURN_IF_ERROR(q->BindText(2, w.hostname));
  AVCTL_RETURN_IF_ERROR(q->BindInt(3, w.pid));
  AVCTL_RETURN_IF_ERROR(q->BindText(4, w.device));
  AVCTL_RETURN_IF_ERROR(q->BindText(5, w.gpu_name));
  AVCTL_RETURN_IF_ERROR(q->BindInt(6, w.gpu_memory_mb));
  AVCTL_RETURN_IF_ERROR(q->BindInt(7, w.slots));
  AVCTL_RETURN_IF_ERROR(q->BindText(8, w.info.dump()));
  AVCTL_RETURN_IF_ERROR(q->BindDouble(9, now));
  AVCTL_RETURN_IF_ERROR(q->BindDouble(10, now));
  AVCTL_RETURN_IF_ERROR(q->Run());
  return AddEvent("worker", fmt::format("worker {} connected: {} {}, {} slot(s)", w.id, w.hostname, w.device, w.slots),
                  now, 0, 0, 0, w.id);
}

const char* WorkerStateName(WorkerState s) {
  switch (s) {
    case WorkerState::kConnected: return "connected";
    case WorkerState::kDraining: return "draining";
    case WorkerState::kLost: return "lost";
    case WorkerState::kGone: return "gone";
  }
  return "?";
}

Status Record::SetWorkerState(const std::string& id, WorkerState state_value, double now) {
  const std::string state = WorkerStateName(state_value);
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached("UPDATE workers SET state = ?, last_seen = ? WHERE id = ?"));
  AVCTL_RETURN_IF_ERROR(q->BindText(1, state));
  AVCTL_RETURN_IF_ERROR(q->BindDouble(2, now));
  AVCTL_RETURN_IF_ERROR(q->BindText(3, id));
  AVCTL_RETURN_IF_ERROR(q->Run());
  return AddEvent("worker", fmt::format("worker {} {}", id, state), now, 0, 0, 0, id);
}

Status Record::TouchWorker(const std::string& id, double now) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached("UPDATE workers SET last_seen = ? WHERE id = ?"));
  AVCTL_RETURN_IF_ERROR(q->BindDouble(1, now));
  AVCTL_RETURN_IF_ERROR(q->BindText(2, id));
  return q->Run();
}

Status Record::AddEvent(const std::string& kind, const std::string& message, double now, int64_t sweep_id,
                          int64_t job_id, int64_t attempt_id, const std::string& worker_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "INSERT INTO events (at, kind, sweep_id, job_id, attempt_id, worker_id, message) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  AVCTL_RETURN_IF_ERROR(q->BindDouble(1, now));
  AVCTL_RETURN_IF_ERROR(q->BindText(2, kind));
  auto bind_id = [&](int index, int64_t v) { return v > 0 ? q->BindInt(index, v) : q->BindNull(index); };
  AVCTL_RETURN_IF_ERROR(bind_id(3, sweep_id));
  AVCTL_RETURN_IF_ERROR(bind_id(4, job_id));
  AVCTL_RETURN_IF_ERROR(bind_id(5, attempt_id));
  AVCTL_RETURN_IF_ERROR(worker_id.empty() ? q->BindNull(6) : q->BindText(6, worker_id));
  AVCTL_RETURN_IF_ERROR(q->BindText(7, message));
  return q->Run();
}

Result<Json> Record::ListSweeps() {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "SELECT s.id, s.name, s.priority, s.created_at, COUNT(j.id), "
      "SUM(j.state = 'queued'), SUM(j.state = 'running'), SUM(j.state = 'done'), SUM(j.state = 'failed'), "
      "SUM(j.state = 'cancelled') FROM sweeps s LEFT JOIN jobs j ON j.sweep_id = s.id GROUP BY s.id ORDER BY s.id"));
  Json out = Json::array();
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({{"id", q->ColumnInt(0)}, {"name", q->ColumnText(1)}, {"priority", q->ColumnInt(2)},
                   {"created_at", q->ColumnDouble(3)}, {"jobs", q->ColumnInt(4)},
                   {"states", {{"queued", q->ColumnInt(5)}, {"running", q->ColumnInt(6)}, {"done", q->ColumnInt(7)},
                               {"failed", q->ColumnInt(8)}, {"cancelled", q->ColumnInt(9)}}}});
  }
  return out;
}

Result<Json> Record::SweepStatus(int64_t sweep_id, double now) {
  Json out;
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT id, name, priority, created_at, alpha, comparisons, dataset, source FROM sweeps WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, sweep_id));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) return Status::NotFound(fmt::format("no sweep {}", sweep_id));
    out = {{"id", q->ColumnInt(0)}, {"name", q->ColumnText(1)}, {"priority", q->ColumnInt(2)},
           {"created_at", q->ColumnDouble(3)}, {"alpha", q->ColumnDouble(4)},
           {"comparisons", ParseStored(q->ColumnText(5))}, {"dataset", ParseStored(q->ColumnText(6))},
           {"source", q->ColumnText(7)}};
  }
  Json variants = Json::array();
  Json totals = {{"queued", 0}, {"running", 0}, {"done", 0}, {"failed", 0}, {"cancelled", 0}};
  int64_t total = 0;
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT v.name, v.role, v.preset, COUNT(j.id), SUM(j.state = 'queued'), SUM(j.state = 'running'), "
        "SUM(j.state = 'done'), SUM(j.state = 'failed'), SUM(j.state = 'cancelled') FROM variants v "
        "LEFT JOIN jobs j ON j.sweep_id = v.sweep_id AND j.variant = v.name WHERE v.sweep_id = ? "
        "GROUP BY v.name ORDER BY MIN(j.ord)"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, sweep_id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      Json states = {{"queued", q->ColumnInt(4)}, {"running", q->ColumnInt(5)}, {"done", q->ColumnInt(6)},
                     {"failed", q->ColumnInt(7)}, {"cancelled", q->ColumnInt(8)}};
      for (auto& [k, v] : states.items()) totals[k] = totals[k].get<int64_t>() + v.get<int64_t>();
      total += q->ColumnInt(3);
      variants.push_back({{"name", q->ColumnText(0)}, {"role", q->ColumnText(1)}, {"preset", q->ColumnText(2)},
                          {"jobs", q->ColumnInt(3)}, {"states", states}});
    }
  }
  out["variants"] = variants;
  out["states"] = totals;
  out["jobs"] = total;
  // ETA: the mean duration of succeeded attempts x jobs left / attempts running now.
  {
    // The mean over the latest 200 successes: recent enough for an ETA, and
    // the scan stops early instead of joining every attempt of the sweep.
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT AVG(d) FROM (SELECT a.ended_at - a.started_at AS d FROM attempts a JOIN jobs j ON j.id = a.job_id "
        "WHERE j.sweep_id = ? AND a.state = 'succeeded' ORDER BY a.id DESC LIMIT 200)"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, sweep_id));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    const double mean = row && !q->ColumnIsNull(0) ? q->ColumnDouble(0) : 0;
    const int64_t left = totals["queued"].get<int64_t>() + totals["running"].get<int64_t>();
    const int64_t running = totals["running"].get<int64_t>();
    out["mean_job_seconds"] = mean;
    if (mean > 0 && running > 0) {
      out["eta_seconds"] = mean * static_cast<double>(left) / static_cast<double>(running);
    } else {
      out["eta_seconds"] = nullptr;
    }
  }
  // The running jobs with their latest epoch, so that `sweep status` shows how
  // far each one is. Bounded: a fleet of a thousand slots lists the first 50.
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT j.id, j.key, j.variant, j.seed, j.partition, a.worker_id, a.started_at, "
        "(SELECT e.data FROM epochs e WHERE e.attempt_id = a.id ORDER BY e.epoch DESC LIMIT 1) "
        "FROM jobs j JOIN attempts a ON a.id = j.current_attempt "
        "WHERE j.sweep_id = ? AND j.state = 'running' ORDER BY j.ord LIMIT ?"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, sweep_id));
    AVCTL_RETURN_IF_ERROR(q->BindInt(2, kStatusRunningRows));
    Json running = Json::array();
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      Json r = {{"id", q->ColumnInt(0)}, {"key", q->ColumnText(1)}, {"variant", q->ColumnText(2)},
                {"seed", q->ColumnInt(3)}, {"partition", q->ColumnInt(4)}, {"worker", q->ColumnText(5)},
                {"elapsed_seconds", now - q->ColumnDouble(6)}};
      if (!q->ColumnIsNull(7)) r["progress"] = ParseStored(q->ColumnText(7));
      running.push_back(r);
    }
    out["running"] = running;
  }
  out["finished"] = totals["queued"].get<int64_t>() == 0 && totals["running"].get<int64_t>() == 0;
  out["now"] = now;
  return out;
}

Result<Json> Record::Jobs(int64_t sweep_id, const std::string& state) {
  if (!state.empty()) AVCTL_RETURN_IF_ERROR(ParseJobState(state).status());
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "SELECT j.id, j.key, j.variant, j.point, j.seed, j.partition, j.state, j.attempts, j.max_attempts, "
      "COALESCE(j.reason, ''), COALESCE(a.worker_id, ''), r.metrics FROM jobs j "
      "LEFT JOIN attempts a ON a.id = j.current_attempt LEFT JOIN results r ON r.job_id = j.id "
      "WHERE j.sweep_id = ? AND (? = '' OR j.state = ?) ORDER BY j.ord"));
  AVCTL_RETURN_IF_ERROR(q->BindInt(1, sweep_id));
  AVCTL_RETURN_IF_ERROR(q->BindText(2, state));
  AVCTL_RETURN_IF_ERROR(q->BindText(3, state));
  Json out = Json::array();
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    Json j = {{"id", q->ColumnInt(0)}, {"key", q->ColumnText(1)}, {"variant", q->ColumnText(2)},
              {"point", q->ColumnText(3)}, {"seed", q->ColumnInt(4)}, {"partition", q->ColumnInt(5)},
              {"state", q->ColumnText(6)}, {"attempts", q->ColumnInt(7)}, {"max_attempts", q->ColumnInt(8)},
              {"reason", q->ColumnText(9)}, {"worker", q->ColumnText(10)}};
    if (!q->ColumnIsNull(11)) j["metrics"] = ParseStored(q->ColumnText(11));
    out.push_back(j);
  }
  return out;
}

Result<Json> Record::Results(int64_t sweep_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "SELECT j.key, j.variant, j.point, j.seed, j.partition, r.attempt_id, a.worker_id, "
      "COALESCE(r.compute_seconds, a.ended_at - a.started_at), r.metrics, a.ended_at - a.started_at "
      "FROM results r JOIN jobs j ON j.id = r.job_id "
      "JOIN attempts a ON a.id = r.attempt_id WHERE j.sweep_id = ? ORDER BY j.ord"));
  AVCTL_RETURN_IF_ERROR(q->BindInt(1, sweep_id));
  Json out = Json::array();
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({{"key", q->ColumnText(0)}, {"variant", q->ColumnText(1)}, {"point", q->ColumnText(2)},
                   {"seed", q->ColumnInt(3)}, {"partition", q->ColumnInt(4)}, {"attempt_id", q->ColumnInt(5)},
                   {"worker", q->ColumnText(6)}, {"seconds", q->ColumnDouble(7)},
                   {"metrics", ParseStored(q->ColumnText(8))}, {"wall_seconds", q->ColumnDouble(9)}});
  }
  return out;
}

Result<Json> Record::Workers() {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "SELECT w.id, w.hostname, w.pid, w.device, w.gpu_name, w.gpu_memory_mb, w.slots, w.state, w.first_seen, "
      "w.last_seen, (SELECT COUNT(*) FROM attempts a WHERE a.worker_id = w.id AND a.state = 'running'), "
      "(SELECT COUNT(*) FROM attempts a WHERE a.worker_id = w.id AND a.state = 'succeeded'), w.info "
      "FROM workers w ORDER BY w.id"));
  Json out = Json::array();
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    Json info = ParseStored(q->ColumnText(12));
    out.push_back({{"id", q->ColumnText(0)}, {"hostname", q->ColumnText(1)}, {"pid", q->ColumnInt(2)},
                   {"device", q->ColumnText(3)}, {"gpu_name", q->ColumnText(4)}, {"gpu_memory_mb", q->ColumnInt(5)},
                   {"slots", q->ColumnInt(6)}, {"state", q->ColumnText(7)}, {"first_seen", q->ColumnDouble(8)},
                   {"last_seen", q->ColumnDouble(9)}, {"running", q->ColumnInt(10)}, {"succeeded", q->ColumnInt(11)},
                   {"labels", info.is_object() ? info.value("labels", Json::object()) : Json::object()}});
  }
  return out;
}

Result<Json> Record::Events(int64_t after_id, int limit) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
      "SELECT id, at, kind, COALESCE(sweep_id, 0), COALESCE(job_id, 0), COALESCE(attempt_id, 0), "
      "COALESCE(worker_id, ''), message FROM events WHERE id > ? ORDER BY id LIMIT ?"));
  AVCTL_RETURN_IF_ERROR(q->BindInt(1, after_id));
  AVCTL_RETURN_IF_ERROR(q->BindInt(2, limit));
  Json out = Json::array();
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({{"id", q->ColumnInt(0)}, {"at", q->ColumnDouble(1)}, {"kind", q->ColumnText(2)},
                   {"sweep_id", q->ColumnInt(3)}, {"job_id", q->ColumnInt(4)}, {"attempt_id", q->ColumnInt(5)},
                   {"worker_id", q->ColumnText(6)}, {"message", q->ColumnText(7)}});
  }
  return out;
}

Result<SweepReportRows> Record::ReportRows(const std::string& sweep_ref) {
  SweepReportRows out;
  auto resolved = ResolveSweep(sweep_ref);
  if (!resolved.ok()) return std::move(resolved).TakeStatus().WithFile(db_->path());
  out.sweep.id = *resolved;
  const int64_t id = out.sweep.id;
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT name, source, alpha, comparisons, dataset, spec FROM sweeps WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, id));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) return Status::NotFound(fmt::format("no sweep {} in the record", id));
    out.sweep.name = q->ColumnText(0);
    out.sweep.source = q->ColumnText(1);
    out.sweep.alpha = q->ColumnDouble(2);
    out.sweep.comparisons = ParseStored(q->ColumnText(3));
    out.sweep.dataset = ParseStored(q->ColumnText(4));
    out.sweep.spec = ParseStored(q->ColumnText(5));
  }
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT v.name, v.role, v.preset FROM variants v LEFT JOIN jobs j ON j.sweep_id = v.sweep_id AND "
        "j.variant = v.name WHERE v.sweep_id = ? GROUP BY v.name ORDER BY MIN(j.ord)"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      out.variants.push_back({q->ColumnText(0), q->ColumnText(1), q->ColumnText(2)});
    }
  }
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT j.key, j.variant, j.point, j.seed, j.partition, j.state, j.attempts, COALESCE(j.reason, ''), "
        "COALESCE(a.worker_id, ''), COALESCE(w.device, ''), COALESCE(a.started_at, 0), COALESCE(a.ended_at, 0), "
        "r.result IS NOT NULL, COALESCE(r.result, ''), COALESCE(r.compute_seconds, -1) FROM jobs j "
        "LEFT JOIN results r ON r.job_id = j.id "
        "LEFT JOIN attempts a ON a.id = COALESCE(r.attempt_id, (SELECT MAX(id) FROM attempts x WHERE x.job_id = j.id)) "
        "LEFT JOIN workers w ON w.id = a.worker_id WHERE j.sweep_id = ? ORDER BY j.ord"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      RunRow r;
      r.key = q->ColumnText(0);
      r.variant = q->ColumnText(1);
      r.point = q->ColumnText(2);
      r.seed = static_cast<uint64_t>(q->ColumnInt(3));
      r.partition = static_cast<int>(q->ColumnInt(4));
      r.state = q->ColumnText(5);
      r.attempts = static_cast<int>(q->ColumnInt(6));
      r.reason = q->ColumnText(7);
      r.worker = q->ColumnText(8);
      r.device = q->ColumnText(9);
      r.started_at = q->ColumnDouble(10);
      r.ended_at = q->ColumnDouble(11);
      r.has_result = q->ColumnInt(12) != 0;
      if (r.has_result) r.result = ParseStored(q->ColumnText(13));
      r.compute_seconds = q->ColumnDouble(14);
      out.runs.push_back(std::move(r));
    }
  }
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT MIN(a.started_at), MAX(a.ended_at), "
        "SUM(CASE WHEN w.device LIKE 'cuda%' THEN COALESCE(r.compute_seconds, a.ended_at - a.started_at) ELSE 0 END), "
        "SUM(CASE WHEN w.device LIKE 'cuda%' THEN 0 ELSE COALESCE(r.compute_seconds, a.ended_at - a.started_at) END) "
        "FROM attempts a JOIN jobs j ON j.id = a.job_id LEFT JOIN workers w ON w.id = a.worker_id "
        "LEFT JOIN results r ON r.job_id = a.job_id AND r.attempt_id = a.id WHERE j.sweep_id = ? AND a.ended_at IS NOT NULL"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, id));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (row && !q->ColumnIsNull(0)) {
      out.usage.any = true;
      out.usage.first_start = q->ColumnDouble(0);
      out.usage.last_end = q->ColumnDouble(1);
      out.usage.cuda_seconds = q->ColumnDouble(2);
      out.usage.cpu_seconds = q->ColumnDouble(3);
    }
  }
  {
    // Restarts: the compute an attempt that ended without the result lost is
    // its time (dispatch to end) less the seconds of the epochs its last
    // checkpoint kept for the next attempt (as its epoch reports measured them).
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT j.key, j.variant, j.seed, a.id, a.worker_id, a.state, COALESCE(a.reason, ''), "
        "COALESCE(a.resumed_epochs, -1), COALESCE(a.resumed_batches, 0), COALESCE(a.checkpoint_epochs, -1), "
        "COALESCE(a.checkpoint_batches, 0), COALESCE(a.ended_at, a.started_at) - a.started_at, "
        "COALESCE((SELECT SUM(json_extract(e.data, '$.seconds')) FROM epochs e WHERE e.attempt_id = a.id "
        "AND e.epoch <= COALESCE(a.checkpoint_epochs, 0)), 0) "
        "FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.sweep_id = ? "
        "AND (a.state IN ('failed', 'lost', 'preempted') OR a.resumed_epochs > 0) ORDER BY j.ord, a.id"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      RestartRow r;
      r.job_key = q->ColumnText(0);
      r.variant = q->ColumnText(1);
      r.seed = static_cast<uint64_t>(q->ColumnInt(2));
      r.attempt_id = q->ColumnInt(3);
      r.worker = q->ColumnText(4);
      r.state = q->ColumnText(5);
      r.reason = q->ColumnText(6);
      r.resumed_epochs = static_cast<int>(q->ColumnInt(7));
      r.resumed_batches = static_cast<int>(q->ColumnInt(8));
      r.checkpoint_epochs = static_cast<int>(q->ColumnInt(9));
      r.checkpoint_batches = static_cast<int>(q->ColumnInt(10));
      r.seconds = q->ColumnDouble(11);
      if (r.state != "succeeded") r.lost_seconds = std::max(0.0, r.seconds - q->ColumnDouble(12));
      out.restarts.push_back(std::move(r));
    }
  }
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, Cached(
        "SELECT DISTINCT w.id, w.hostname, w.device, w.gpu_name, w.slots FROM workers w JOIN attempts a ON "
        "a.worker_id = w.id JOIN jobs j ON j.id = a.job_id WHERE j.sweep_id = ? ORDER BY w.id"));
    AVCTL_RETURN_IF_ERROR(q->BindInt(1, id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      out.workers.push_back({{"id", q->ColumnText(0)}, {"hostname", q->ColumnText(1)}, {"device", q->ColumnText(2)},
                             {"gpu_name", q->ColumnText(3)}, {"slots", q->ColumnInt(4)}});
    }
  }
  return out;
}

}  // namespace avctl
