// How an attempt ends (result, failure, loss; each one transaction applying
// a decision of sweeps/job_state.h), its progress, and the workers and event
// log.
#include "db/record.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "common/text.h"
#include "db/record_internal.h"
#include "common/job_result.h"
#include "common/progress_event.h"

namespace avctl {

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
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT a.job_id, a.state, a.worker_id, j.sweep_id, j.state, j.attempts, j.max_attempts, "
        "COALESCE(j.current_attempt, 0), EXISTS (SELECT 1 FROM results r WHERE r.job_id = j.id), j.kind, "
        "(SELECT COUNT(*) FROM attempts o WHERE o.job_id = j.id AND o.out_of_memory = 1) "
        "FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE a.id = ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, attempt_id));
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
    view.out_of_memory_failures = static_cast<int>(q->ColumnInt(10));
  }
  Followup f;
  f.sweep_id = sweep_id;
  f.job_id = job_id;
  // The result parsed into its type (common/job_result.h) and checked for
  // what this kind of job must report.
  std::optional<JobResult> parsed;
  Status schema = Status::OK();
  if (result != nullptr) {
    ResultParseOptions options;
    options.require_compute_seconds = true;
    auto r = ParseJobResult(*result, options);
    schema = r.ok() ? CheckResultFor(*r, kind) : r.status();
    if (schema.ok()) parsed = std::move(*r);
  }
  if (schema.ok()) {
    f.transition = decide(view, attempt_state);
  } else {
    // Not stored: a report without its metrics would show nothing. The
    // worker's software is at fault, not the job: retried elsewhere.
    f.transition = OnFailure(view, attempt_id, attempt_state, FailureKind::kWorker,
                             "its result does not meet the result schema (docs/PROTOCOL.md): " + schema.message());
  }
  const Transition& t = f.transition;
  {
    // An attempt's end is recorded once: a second report of the same end
    // (a resent result after a lost ack) changes nothing. A lost attempt
    // stays lost unless its result arrives late.
    AVCTL_ASSIGN_OR_RETURN(StatementRef up, cache_->Get(
        t.attempt == AttemptState::kSucceeded
            ? "UPDATE attempts SET state = ?, ended_at = COALESCE(ended_at, ?), reason = COALESCE(?, reason), "
              "out_of_memory = ? WHERE id = ? AND state IN ('running', 'lost')"
            : "UPDATE attempts SET state = ?, ended_at = COALESCE(ended_at, ?), reason = COALESCE(?, reason), "
              "out_of_memory = ? WHERE id = ? AND state = 'running'"));
    AVCTL_RETURN_IF_ERROR(BindRow(*up, AttemptStateName(t.attempt), now, NullIfEmpty(t.note),
                                  static_cast<int64_t>(t.out_of_memory), attempt_id));
    AVCTL_RETURN_IF_ERROR(up->Run());
  }
  if (t.store_result && parsed) {
    AVCTL_ASSIGN_OR_RETURN(StatementRef ins, cache_->Get(
        "INSERT INTO results (job_id, attempt_id, metrics, result, received_at, compute_seconds) "
        "VALUES (?, ?, ?, ?, ?, ?)"));
    Json stored = JobResultToJson(*parsed);
    AVCTL_RETURN_IF_ERROR(BindRow(*ins, job_id, attempt_id, stored["test"]["metrics"].dump(), stored.dump(), now,
                                  parsed->compute_seconds));
    AVCTL_RETURN_IF_ERROR(ins->Run());
    f.result_stored = true;
    // Where the attempt began, from the result itself: the "resumed"
    // progress line says it too, but progress is not kept until
    // acknowledged, so it can be lost with a reconnect.
    if (parsed->resume && parsed->resume->resumed) {
      const ResumePosition& resume = *parsed->resume;
      AVCTL_ASSIGN_OR_RETURN(StatementRef up, cache_->Get(
          "UPDATE attempts SET resumed_from = ?, resumed_epochs = ?, resumed_batches = ? WHERE id = ?"));
      AVCTL_RETURN_IF_ERROR(BindRow(*up, resume.from, resume.epochs, resume.batches, attempt_id));
      AVCTL_RETURN_IF_ERROR(up->Run());
    }
  }
  if (t.cancel_current) {
    f.cancel_attempt = view.current_attempt;
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "UPDATE attempts SET state = 'cancelled', ended_at = ?, reason = ? WHERE id = ? AND state = 'running' "
        "RETURNING worker_id"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, now, fmt::format("superseded by attempt {}", attempt_id), view.current_attempt));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (row) f.cancel_worker = q->ColumnText(0);
    q->Reset();
  }
  if (t.job != view.state || t.clear_current) {
    AVCTL_ASSIGN_OR_RETURN(StatementRef up, cache_->Get(
        "UPDATE jobs SET state = ?, current_attempt = CASE WHEN ? THEN NULL ELSE current_attempt END, "
        "reason = CASE WHEN ? IN ('failed', 'queued') THEN ? WHEN ? = 'done' THEN NULL ELSE reason END, updated_at = ? "
        "WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*up, JobStateName(t.job), t.clear_current ? 1 : 0, JobStateName(t.job), t.note,
                                         JobStateName(t.job), now, job_id));
    AVCTL_RETURN_IF_ERROR(up->Run());
  }
  if (t.refund_attempt) {
    AVCTL_ASSIGN_OR_RETURN(StatementRef up, cache_->Get("UPDATE jobs SET attempts = MAX(attempts - 1, 0) WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*up, job_id));
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
      AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get("SELECT started_at FROM attempts WHERE id = ?"));
      AVCTL_RETURN_IF_ERROR(BindRow(*q, attempt_id));
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
                                       const std::string& sender, double now, bool out_of_memory) {
  return ApplyEnd(attempt_id, now, "failure",
                  [&](const JobView& v, AttemptState a) {
                    return OnFailure(v, attempt_id, a, kind, reason, out_of_memory);
                  },
                  nullptr, sender);
}

Result<Followup> Record::RecordLost(int64_t attempt_id, const std::string& reason, double now, bool never_started) {
  return ApplyEnd(attempt_id, now, "lost",
                  [&](const JobView& v, AttemptState a) { return OnLost(v, attempt_id, a, reason, never_started); },
                  nullptr);
}

Status Record::RecordProgress(int64_t attempt_id, const Json& progress, double now) {
  AVCTL_ASSIGN_OR_RETURN(ProgressEvent e, ParseProgress(progress, "progress"));
  for (const std::optional<ProgressCheckpoint>* event : {&e.checkpoint, &e.resumed}) {
    if (!*event) continue;
    // A checkpoint written, or the one the attempt began from: kept on the attempt.
    const ProgressCheckpoint& c = **event;
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        event == &e.checkpoint
            ? "UPDATE attempts SET checkpoint = ?, checkpoint_epochs = ?, checkpoint_batches = ? WHERE id = ?"
            : "UPDATE attempts SET resumed_from = ?, resumed_epochs = ?, resumed_batches = ? WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, c.path, c.epochs, c.batches, attempt_id));
    AVCTL_RETURN_IF_ERROR(q->Run());
    if (db_->Changes() == 0) return Status::NotFound(fmt::format("no attempt {} in the record", attempt_id));
    return Status::OK();
  }
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "INSERT INTO epochs (attempt_id, epoch, data, at) SELECT ?, ?, ?, ? WHERE EXISTS "
      "(SELECT 1 FROM attempts WHERE id = ?) ON CONFLICT (attempt_id, epoch) DO UPDATE SET data = excluded.data"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, attempt_id, e.epoch, ProgressToJson(e).dump(), now, attempt_id));
  AVCTL_RETURN_IF_ERROR(q->Run());
  if (db_->Changes() == 0) return Status::NotFound(fmt::format("no attempt {} in the record", attempt_id));
  return Status::OK();
}

Status Record::UpsertWorker(const WorkerRecord& w, double now) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "INSERT INTO workers (id, hostname, pid, device, gpu_name, gpu_memory_mb, slots, state, info, first_seen, "
      "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, 'connected', ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
      "hostname = excluded.hostname, pid = excluded.pid, device = excluded.device, gpu_name = excluded.gpu_name, "
      "gpu_memory_mb = excluded.gpu_memory_mb, slots = excluded.slots, state = 'connected', info = excluded.info, "
      "last_seen = excluded.last_seen"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, w.id, w.hostname, w.pid, w.device, w.gpu_name, w.gpu_memory_mb, w.slots,
                                       w.info.dump(), now, now));
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
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get("UPDATE workers SET state = ?, last_seen = ? WHERE id = ?"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, state, now, id));
  AVCTL_RETURN_IF_ERROR(q->Run());
  return AddEvent("worker", fmt::format("worker {} {}", id, state), now, 0, 0, 0, id);
}

Status Record::TouchWorker(const std::string& id, double now) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get("UPDATE workers SET last_seen = ? WHERE id = ?"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, now, id));
  return q->Run();
}

Status Record::AddEvent(const std::string& kind, const std::string& message, double now, int64_t sweep_id,
                          int64_t job_id, int64_t attempt_id, const std::string& worker_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "INSERT INTO events (at, kind, sweep_id, job_id, attempt_id, worker_id, message) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  const auto id = [](int64_t v) { return v > 0 ? std::optional<int64_t>(v) : std::nullopt; };  // 0: none
  AVCTL_RETURN_IF_ERROR(
      BindRow(*q, now, kind, id(sweep_id), id(job_id), id(attempt_id), NullIfEmpty(worker_id), message));
  return q->Run();
}

}  // namespace avctl
