// The record's side of group-sequential sweeps: their jobs by stage, the
// release of held stages, jobs ended as not needed, and the analysed looks.
#include "db/record.h"

#include <fmt/format.h>

#include "db/record_internal.h"

namespace avctl {

namespace {

Result<SequentialSweepRow> SweepRowOf(Statement& q) {
  SequentialSweepRow r;
  r.id = q.ColumnInt(0);
  r.name = q.ColumnText(1);
  r.source = q.ColumnText(2);
  r.spec = ParseStored(q.ColumnText(3));
  return r;
}

}  // namespace

Result<std::vector<SequentialSweepRow>> Record::SequentialSweeps() {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT id, name, source, spec FROM sweeps WHERE json_valid(spec) AND "
      "json_type(spec, '$.sequential') = 'object' ORDER BY id"));
  std::vector<SequentialSweepRow> out;
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    AVCTL_ASSIGN_OR_RETURN(SequentialSweepRow r, SweepRowOf(*q));
    out.push_back(std::move(r));
  }
  return out;
}

Result<SequentialSweepRow> Record::SequentialSweepOf(int64_t sweep_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT id, name, source, spec FROM sweeps WHERE id = ? AND json_valid(spec) AND "
      "json_type(spec, '$.sequential') = 'object'"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id));
  AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
  if (!row) return Status::NotFound(fmt::format("sweep {} is not a group-sequential sweep", sweep_id));
  return SweepRowOf(*q);
}

Result<std::vector<JobStageCount>> Record::StageCounts(int64_t sweep_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT variant, point, stage, state, COUNT(*) FROM jobs WHERE sweep_id = ? "
      "GROUP BY variant, point, stage, state ORDER BY variant, point, stage"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id));
  std::vector<JobStageCount> out;
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    JobStageCount c;
    c.variant = q->ColumnText(0);
    c.point = q->ColumnText(1);
    c.stage = static_cast<int>(q->ColumnInt(2));
    AVCTL_ASSIGN_OR_RETURN(c.state, ParseJobState(q->ColumnText(3)));
    c.jobs = q->ColumnInt(4);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Record::SweepGroups(int64_t sweep_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT variant, point FROM jobs WHERE sweep_id = ? GROUP BY variant, point ORDER BY MIN(ord)"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id));
  std::vector<std::pair<std::string, std::string>> out;
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.emplace_back(q->ColumnText(0), q->ColumnText(1));
  }
  return out;
}

Result<std::vector<QueuedJob>> Record::ReleaseHeld(int64_t sweep_id, const std::string& variant,
                                                   const std::string& point, int through_stage, double now) {
  AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db_.get()));
  std::vector<int64_t> ids;
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "UPDATE jobs SET state = 'queued', updated_at = ? WHERE sweep_id = ? AND variant = ? AND point = ? "
        "AND state = 'held' AND stage <= ? RETURNING id"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, now, sweep_id, variant, point, through_stage));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      ids.push_back(q->ColumnInt(0));
    }
  }
  std::vector<QueuedJob> out;
  for (int64_t id : ids) {
    AVCTL_ASSIGN_OR_RETURN(QueuedJob j, QueuedJobOf(id));
    out.push_back(std::move(j));
  }
  AVCTL_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<std::vector<int64_t>> Record::EndNotNeeded(int64_t sweep_id, const std::string& variant,
                                                  const std::string& point, int after_stage,
                                                  const std::string& reason, double now) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "UPDATE jobs SET state = 'not_needed', reason = ?, updated_at = ? WHERE sweep_id = ? AND variant = ? "
      "AND point = ? AND state IN ('held', 'queued') AND stage > ? RETURNING id"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, reason, now, sweep_id, variant, point, after_stage));
  std::vector<int64_t> out;
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back(q->ColumnInt(0));
  }
  return out;
}

Status Record::AddSequentialLook(int64_t sweep_id, const SequentialLook& look, double now) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "INSERT INTO sequential_looks (sweep_id, look, analysed_at, data) VALUES (?, ?, ?, ?)"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id, look.look, now, SequentialLookToJson(look).dump()));
  Status st = q->Run();
  if (!st.ok()) return st.Annotate(fmt::format("storing look {} of sweep {}", look.look + 1, sweep_id));
  return Status::OK();
}

Result<std::vector<SequentialLook>> Record::SequentialLooks(int64_t sweep_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT look, data FROM sequential_looks WHERE sweep_id = ? ORDER BY look"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id));
  std::vector<SequentialLook> out;
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    const std::string where = fmt::format("sequential_looks[sweep {}, look {}]", sweep_id, q->ColumnInt(0) + 1);
    AVCTL_ASSIGN_OR_RETURN(SequentialLook look, ParseSequentialLook(ParseStored(q->ColumnText(1)), where));
    out.push_back(std::move(look));
  }
  return out;
}

}  // namespace avctl
