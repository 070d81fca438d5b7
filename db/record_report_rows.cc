// Everything a sweep's report shows, read in one go (web/report_loader).
#include "db/record.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "common/text.h"
#include "db/record_internal.h"

namespace avctl {

Result<SweepReportRows> Record::ReportRows(const std::string& sweep_ref) {
  SweepReportRows out;
  auto resolved = ResolveSweep(sweep_ref);
  if (!resolved.ok()) return std::move(resolved).TakeStatus().WithFile(db_->path());
  out.sweep.id = *resolved;
  const int64_t id = out.sweep.id;
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT name, source, alpha, comparisons, dataset, spec FROM sweeps WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, id));
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
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT v.name, v.role, v.preset FROM variants v LEFT JOIN jobs j ON j.sweep_id = v.sweep_id AND "
        "j.variant = v.name WHERE v.sweep_id = ? GROUP BY v.name ORDER BY MIN(j.ord)"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      out.variants.push_back({q->ColumnText(0), q->ColumnText(1), q->ColumnText(2)});
    }
  }
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT j.key, j.variant, j.point, j.seed, j.partition, j.state, j.attempts, COALESCE(j.reason, ''), "
        "COALESCE(a.worker_id, ''), COALESCE(w.device, ''), COALESCE(a.started_at, 0), COALESCE(a.ended_at, 0), "
        "r.result IS NOT NULL, COALESCE(r.result, ''), COALESCE(r.compute_seconds, -1) FROM jobs j "
        "LEFT JOIN results r ON r.job_id = j.id "
        "LEFT JOIN attempts a ON a.id = COALESCE(r.attempt_id, (SELECT MAX(id) FROM attempts x WHERE x.job_id = j.id)) "
        "LEFT JOIN workers w ON w.id = a.worker_id WHERE j.sweep_id = ? ORDER BY j.ord"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, id));
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
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT MIN(a.started_at), MAX(a.ended_at), "
        "SUM(CASE WHEN w.device LIKE 'cuda%' THEN COALESCE(r.compute_seconds, a.ended_at - a.started_at) ELSE 0 END), "
        "SUM(CASE WHEN w.device LIKE 'cuda%' THEN 0 ELSE COALESCE(r.compute_seconds, a.ended_at - a.started_at) END) "
        "FROM attempts a JOIN jobs j ON j.id = a.job_id LEFT JOIN workers w ON w.id = a.worker_id "
        "LEFT JOIN results r ON r.job_id = a.job_id AND r.attempt_id = a.id WHERE j.sweep_id = ? AND a.ended_at IS NOT NULL"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, id));
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
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT j.key, j.variant, j.seed, a.id, a.worker_id, a.state, COALESCE(a.reason, ''), "
        "COALESCE(a.resumed_epochs, -1), COALESCE(a.resumed_batches, 0), COALESCE(a.checkpoint_epochs, -1), "
        "COALESCE(a.checkpoint_batches, 0), COALESCE(a.ended_at, a.started_at) - a.started_at, "
        "COALESCE((SELECT SUM(json_extract(e.data, '$.seconds')) FROM epochs e WHERE e.attempt_id = a.id "
        "AND e.epoch <= COALESCE(a.checkpoint_epochs, 0)), 0) "
        "FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.sweep_id = ? "
        "AND (a.state IN ('failed', 'lost', 'preempted') OR a.resumed_epochs > 0) ORDER BY j.ord, a.id"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, id));
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
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT DISTINCT w.id, w.hostname, w.device, w.gpu_name, w.slots FROM workers w JOIN attempts a ON "
        "a.worker_id = w.id JOIN jobs j ON j.id = a.job_id WHERE j.sweep_id = ? ORDER BY w.id"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, id));
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
