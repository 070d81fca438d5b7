// The coordinator's durable record in SQLite: sweeps, variants, jobs,
// attempts, epochs, results, workers and events (schema in record.cc,
// applied by migrations). Every state change is one transaction that applies
// a decision of job_state.h, so a crash at any point leaves either the old or
// the new state. A job has at most one result: results.job_id is its primary
// key.
//
// Times are seconds since the Unix epoch, passed in by the caller (tests use
// a fake clock).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/protocol.h"
#include "common/status.h"
#include "sweeps/job_state.h"
#include "sweeps/job_resources.h"
#include "sweeps/result_rows.h"
#include "sweeps/sequential_look.h"
#include "sweeps/sweep_spec.h"
#include "db/database.h"

namespace avctl {

// The SQL of each migration step, in order (exposed for tests).
const std::vector<std::string>& RecordSchemaSteps();

struct SubmitOutcome {
  int64_t sweep_id = 0;
  bool new_sweep = false;
  int total = 0;      // jobs of the expansion
  int added = 0;      // not in the record before
  int existing = 0;   // found by key (already queued, running or finished)
};

struct DispatchInfo {
  int64_t attempt_id = 0;
  int64_t job_id = 0;
  std::string job_key;
  JobKind kind = JobKind::kTrain;
  double sleep_seconds = 0;
  std::string job_raw;      // the job JSON for avworker train, as stored
  std::string dataset_raw;  // the sweep's dataset JSON: {"store": DIR} or {"synth": {...}}
  // Parsed, and the declared resources: filled by AttemptInfo only (Dispatch
  // leaves them empty to stay cheap).
  Json job;
  Json dataset;
  JobResources resources;
  std::optional<ResumeHint> resume;  // Dispatch: the job's furthest checkpoint reported so far
};

// What the coordinator must do after a transition besides storing it.
struct Followup {
  Transition transition;
  int64_t job_id = 0;
  int64_t sweep_id = 0;
  std::optional<QueuedJob> requeue;     // push onto the ready queue
  int64_t cancel_attempt = 0;           // send cancel for this attempt ...
  std::string cancel_worker;            // ... to this worker
  bool result_stored = false;           // this attempt's result is now the job's: its checkpoints may go
};

struct RunningAttempt {
  int64_t attempt_id = 0;
  int64_t job_id = 0;
  std::string worker_id;
  double started_at = 0;
  int64_t memory_mb = 0;
};

struct AttemptRow {
  int64_t attempt_id = 0;
  int64_t job_id = 0;
  std::string worker_id;
  AttemptState state = AttemptState::kRunning;
  JobState job_state = JobState::kQueued;
  int64_t memory_mb = 0;
};

// A worker as the record shows it.
enum class WorkerState {
  kConnected,  // welcomed
  kDraining,   // finishing its attempts, taking no more
  kLost,       // went silent (liveness) or its session was replaced
  kGone,       // said bye
};
const char* WorkerStateName(WorkerState s);

struct WorkerRecord {
  std::string id;
  std::string hostname;
  int64_t pid = 0;
  std::string device;      // "cpu" or "cuda"
  std::string gpu_name;
  int64_t gpu_memory_mb = 0;
  int slots = 1;
  Json info = Json::object();  // the whole hello
};

// One sweep as its report reads it (web/report_loader makes a ReportData of it).
struct SweepRow {
  int64_t id = 0;
  std::string name, source;
  double alpha = 0.05;
  Json comparisons = Json::array();  // as stored from the spec
  Json dataset = Json::object();
  Json spec = Json::object();  // the submitted spec (ReportRows only)
};
struct VariantRow {
  std::string name, role, preset;
};
struct RunRow {
  std::string key, variant, point;
  uint64_t seed = 0;
  int partition = 1;
  std::string state;  // the job's
  int attempts = 0;
  std::string reason;
  // The stored result's attempt, or else the job's latest attempt.
  std::string worker, device;
  double started_at = 0, ended_at = 0;  // as the coordinator saw them (dispatch, end)
  double compute_seconds = -1;          // the worker's measured time (result.compute_seconds); < 0: not reported
  bool has_result = false;
  Json result = Json::object();         // as the worker returned it
};
// Attempt time of a sweep: the worker-measured compute time of attempts with
// a result, the dispatch-to-end span of the others (failed, lost).
struct SweepUsage {
  bool any = false;
  double first_start = 0, last_end = 0;
  double cuda_seconds = 0, cpu_seconds = 0;
};
// An attempt that ended without the job's result (failed, lost, preempted),
// or one that resumed from a checkpoint: the report's restarts table.
struct RestartRow {
  std::string job_key, variant;
  uint64_t seed = 0;
  int64_t attempt_id = 0;
  std::string worker, state, reason;
  int resumed_epochs = -1, resumed_batches = 0;      // -1: began from scratch
  int checkpoint_epochs = -1, checkpoint_batches = 0;  // -1: wrote none
  double seconds = 0;       // dispatch to end (the coordinator's clock)
  double lost_seconds = 0;  // ended without the result: its time less its epochs a later attempt kept
};
struct SweepReportRows {
  SweepRow sweep;
  std::vector<VariantRow> variants;  // in the order of their first job
  std::vector<RunRow> runs;          // in the sweep's seed-major order
  SweepUsage usage;
  Json workers = Json::array();      // [{id, hostname, device, gpu_name, slots}] that ran its attempts
  std::vector<RestartRow> restarts;  // in job order, then attempt order
};

// Jobs of a group-sequential sweep by group, stage and state (the
// scheduler's view of which looks can be analysed).
struct JobStageCount {
  std::string variant, point;
  int stage = 0;
  JobState state = JobState::kQueued;
  int64_t jobs = 0;
};

// A sweep whose spec has "sequential", as submitted.
struct SequentialSweepRow {
  int64_t id = 0;
  std::string name, source;
  Json spec = Json::object();
};

class StatementCache;  // db/record_internal.h

class Record {
 public:
  // Opens or creates the record at `path` and brings its schema up to date.
  static Result<std::unique_ptr<Record>> Open(const std::string& path);
  static Result<std::unique_ptr<Record>> OpenReadOnly(const std::string& path);

  ~Record();
  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;

  // A transaction that the record's changes join (as savepoints) until it
  // commits: the coordinator groups a round's changes in one.
  Result<Transaction> Begin();
  // See Database::TakeStorageFailure.
  Status TakeStorageFailure();
  // Lets the record grow by at most `pages` more pages on this connection
  // (PRAGMA max_page_count): writes beyond fail as on a full disk (tests).
  Status CapGrowth(int64_t pages);

  // Adds a sweep and its jobs, or, for a sweep of the same name, the jobs
  // whose keys are new. A known key whose job config differs is refused (the
  // sweep changed under the same name), and nothing is written.
  Result<SubmitOutcome> SubmitSweep(const SweepSpec& spec, const Json& spec_json, const std::vector<ExpandedJob>& jobs,
                                    const std::string& source, double now);

  Result<std::vector<QueuedJob>> QueuedJobs();
  Result<std::vector<RunningAttempt>> RunningAttempts();

  // Creates a running attempt of a queued job on `worker_id`; returns the
  // raw job message parts (job_raw, dataset_raw).
  Result<DispatchInfo> Dispatch(int64_t job_id, const std::string& worker_id, double now);
  // Rebuilds the job message of a running attempt (for a worker that asks again).
  Result<DispatchInfo> AttemptInfo(int64_t attempt_id);

  Result<AttemptRow> GetAttempt(int64_t attempt_id);

  // `sender`: the worker the report came from; events name it (it may not
  // be the worker the attempt was dispatched to). A result that does not
  // meet common/job_result.h is recorded as a worker failure of the
  // attempt naming the field at fault, and not stored.
  //
  // `protocol`: the version the sender speaks. A protocol-1 result has no
  // compute_seconds; it is stored with the attempt's wall time since
  // dispatch in its place, and "compute_seconds_source" in the stored result
  // says so.
  Result<Followup> RecordResult(int64_t attempt_id, const Json& result, const std::string& sender, double now,
                                int64_t protocol = kProtocolVersion);
  // `out_of_memory`: the job avoids this attempt's worker from now on, and
  // fails as too large for the fleet when it runs out of memory again.
  Result<Followup> RecordFailure(int64_t attempt_id, FailureKind kind, const std::string& reason,
                                 const std::string& sender, double now, bool out_of_memory = false);
  // `never_started`: see OnLost (sweeps/job_state.h).
  Result<Followup> RecordLost(int64_t attempt_id, const std::string& reason, double now, bool never_started = false);
  Status RecordProgress(int64_t attempt_id, const Json& progress, double now);

  // Sweep references are an id ("3") or a name ("demo").
  Result<int64_t> ResolveSweep(const std::string& ref);
  // Cancels queued and running jobs: the followups name attempts to cancel.
  Result<std::vector<Followup>> CancelSweep(int64_t sweep_id, double now);
  // Requeues failed and cancelled jobs with a fresh attempt budget; in a
  // group-sequential sweep (`sequential`) they are held instead, for its
  // scheduler to release what its looks need. Jobs not needed stay so.
  struct RetryOutcome {
    int64_t retried = 0;            // failed or cancelled jobs given a fresh budget
    std::vector<QueuedJob> queued;  // those queued now (none when held)
  };
  Result<RetryOutcome> RetrySweep(int64_t sweep_id, double now, bool sequential = false);

  // Group-sequential sweeps (coordinator/sequential_scheduler.h).
  Result<std::vector<SequentialSweepRow>> SequentialSweeps();
  Result<SequentialSweepRow> SequentialSweepOf(int64_t sweep_id);
  Result<std::vector<JobStageCount>> StageCounts(int64_t sweep_id);
  // The (variant, point) groups of a sweep's jobs, in the order of their first job.
  Result<std::vector<std::pair<std::string, std::string>>> SweepGroups(int64_t sweep_id);
  // Queues the held jobs of one group (variant, point) whose stage is at
  // most `through_stage`; they join the ready queue.
  Result<std::vector<QueuedJob>> ReleaseHeld(int64_t sweep_id, const std::string& variant, const std::string& point,
                                             int through_stage, double now);
  // Ends the held and queued jobs of one group past `after_stage` as not
  // needed, with `reason`; their ids (queued ones leave the ready queue).
  Result<std::vector<int64_t>> EndNotNeeded(int64_t sweep_id, const std::string& variant, const std::string& point,
                                            int after_stage, const std::string& reason, double now);
  // Looks are stored once, in order; a look already stored is refused.
  Status AddSequentialLook(int64_t sweep_id, const SequentialLook& look, double now);
  Result<std::vector<SequentialLook>> SequentialLooks(int64_t sweep_id);

  Status UpsertWorker(const WorkerRecord& w, double now);
  Status SetWorkerState(const std::string& id, WorkerState state, double now);
  // When the worker was last heard (the broker writes it in batches).
  Status TouchWorker(const std::string& id, double last_heard);

  Status AddEvent(const std::string& kind, const std::string& message, double now, int64_t sweep_id = 0,
                  int64_t job_id = 0, int64_t attempt_id = 0, const std::string& worker_id = "");

  // Read models for avctl and the HTTP API (JSON, documented in docs/PROTOCOL.md).
  Result<Json> ListSweeps();
  // Counts per variant and state, ETA, and the first running jobs with their
  // latest epoch record ("running": [{key, worker, elapsed_seconds, progress}]).
  Result<Json> SweepStatus(int64_t sweep_id, double now);
  Result<Json> Jobs(int64_t sweep_id, const std::string& state);
  Result<std::vector<ResultRow>> Results(int64_t sweep_id);
  // The code behind the stored results of the command jobs of the sweep
  // named `sweep_name`: [{variant, script, script_sha256, git_commit,
  // results}] ("" where the result has none); [] when no such sweep.
  Result<Json> CodeVersions(const std::string& sweep_name);
  Result<Json> Workers();
  Result<Json> Events(int64_t after_id, int limit);
  // Everything a sweep's report shows (`sweep_ref`: id or name).
  Result<SweepReportRows> ReportRows(const std::string& sweep_ref);

 private:
  explicit Record(std::unique_ptr<Database> db);
  Result<JobView> LoadJobView(int64_t job_id);
  // `sender`: the reporting worker ("" for the coordinator's own decisions:
  // losses); events are attributed to it, else to the attempt's worker.
  Result<Followup> ApplyEnd(int64_t attempt_id, double now, const std::string& event_kind,
                            const std::function<Transition(const JobView&, AttemptState)>& decide,
                            const Json* result, const std::string& sender = "");
  Result<QueuedJob> QueuedJobOf(int64_t job_id);
  std::unique_ptr<Database> db_;
  std::unique_ptr<StatementCache> cache_;  // destroyed before db_ (declared after it)
};

}  // namespace avctl
