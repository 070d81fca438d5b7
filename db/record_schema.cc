// The record's schema, its migration steps, and opening it.
#include "db/record.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "common/text.h"
#include "db/record_internal.h"

namespace avctl {

namespace {

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

// Step 8: an attempt that ran out of device memory; its job is retried
// once, on another worker (sweeps/job_state.h, OnFailure).
const char* kSchemaV8 = "ALTER TABLE attempts ADD COLUMN out_of_memory INTEGER NOT NULL DEFAULT 0;";

// Step 9 (group-sequential sweeps, coordinator/sequential_scheduler.h): a
// job's stage (the look whose pairs it adds to; 0 outside such sweeps), two
// job states (held: a later stage not released yet; not_needed: its
// comparisons were decided without it), and each analysed look's data and
// decisions. The CHECK constraint changes, so the jobs table is rebuilt as
// the attempts table was in step 7.
const char* kSchemaV9 = R"SQL(
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE jobs_before_v9 AS SELECT * FROM jobs;
DROP TABLE jobs;
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
  state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'held',
                                                 'not_needed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  max_attempts    INTEGER NOT NULL,
  current_attempt INTEGER,
  reason          TEXT,
  created_at      REAL NOT NULL,
  updated_at      REAL NOT NULL,
  sleep_seconds   REAL NOT NULL DEFAULT 0,
  stage           INTEGER NOT NULL DEFAULT 0
);
INSERT INTO jobs (id, sweep_id, key, variant, point, seed, partition, ord, kind, config, resources, state, attempts,
                  max_attempts, current_attempt, reason, created_at, updated_at, sleep_seconds)
  SELECT id, sweep_id, key, variant, point, seed, partition, ord, kind, config, resources, state, attempts,
         max_attempts, current_attempt, reason, created_at, updated_at, sleep_seconds FROM jobs_before_v9;
DROP TABLE jobs_before_v9;
CREATE INDEX jobs_by_sweep_variant_state ON jobs (sweep_id, variant, state, ord);
CREATE TABLE sequential_looks (
  sweep_id    INTEGER NOT NULL REFERENCES sweeps(id),
  look        INTEGER NOT NULL,            -- 0-based
  analysed_at REAL NOT NULL,
  data        TEXT NOT NULL,               -- sweeps/sequential_look.h
  PRIMARY KEY (sweep_id, look)
);
)SQL";

}  // namespace

const std::vector<std::string>& RecordSchemaSteps() {
  static const std::vector<std::string> steps = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4, kSchemaV5,
                                                 kSchemaV6, kSchemaV7, kSchemaV8, kSchemaV9};
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

Record::Record(std::unique_ptr<Database> db) : db_(std::move(db)), cache_(std::make_unique<StatementCache>(db_.get())) {}

Record::~Record() = default;

Result<Transaction> Record::Begin() { return Transaction::Begin(db_.get()); }

Status Record::TakeStorageFailure() { return db_->TakeStorageFailure(); }

Status Record::CapGrowth(int64_t pages) {
  AVCTL_ASSIGN_OR_RETURN(Statement q, db_->Prepare("PRAGMA page_count"));
  AVCTL_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("PRAGMA page_count gave no row").WithFile(db_->path());
  return db_->Exec(fmt::format("PRAGMA max_page_count = {}", q.ColumnInt(0) + pages));
}

Result<StatementRef> StatementCache::Get(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    AVCTL_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare(sql));
    it = statements_.emplace(sql, std::make_unique<Statement>(std::move(stmt))).first;
  }
  it->second->Reset();
  return StatementRef(it->second.get());
}

}  // namespace avctl
