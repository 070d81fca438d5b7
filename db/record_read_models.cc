// The record's read models for avctl and the HTTP API (JSON, documented in
// docs/PROTOCOL.md): sweeps, a sweep's status, jobs, results, workers, events.
#include "db/record.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

#include "common/job_result.h"
#include "common/text.h"
#include "db/record_internal.h"

namespace avctl {

namespace {

// How many running jobs `SweepStatus` lists with their progress.
constexpr int64_t kStatusRunningRows = 50;

}  // namespace

Result<Json> Record::ListSweeps() {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT s.id, s.name, s.priority, s.created_at, COUNT(j.id), "
      "SUM(j.state = 'queued'), SUM(j.state = 'running'), SUM(j.state = 'done'), SUM(j.state = 'failed'), "
      "SUM(j.state = 'cancelled'), SUM(j.state = 'held'), SUM(j.state = 'not_needed') "
      "FROM sweeps s LEFT JOIN jobs j ON j.sweep_id = s.id GROUP BY s.id ORDER BY s.id"));
  Json out = Json::array();
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({{"id", q->ColumnInt(0)}, {"name", q->ColumnText(1)}, {"priority", q->ColumnInt(2)},
                   {"created_at", q->ColumnDouble(3)}, {"jobs", q->ColumnInt(4)},
                   {"states", {{"queued", q->ColumnInt(5)}, {"running", q->ColumnInt(6)}, {"done", q->ColumnInt(7)},
                               {"failed", q->ColumnInt(8)}, {"cancelled", q->ColumnInt(9)},
                               {"held", q->ColumnInt(10)}, {"not_needed", q->ColumnInt(11)}}}});
  }
  return out;
}

Result<Json> Record::SweepStatus(int64_t sweep_id, double now) {
  Json out;
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT id, name, priority, created_at, alpha, comparisons, dataset, source FROM sweeps WHERE id = ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id));
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) return Status::NotFound(fmt::format("no sweep {}", sweep_id));
    out = {{"id", q->ColumnInt(0)}, {"name", q->ColumnText(1)}, {"priority", q->ColumnInt(2)},
           {"created_at", q->ColumnDouble(3)}, {"alpha", q->ColumnDouble(4)},
           {"comparisons", ParseStored(q->ColumnText(5))}, {"dataset", ParseStored(q->ColumnText(6))},
           {"source", q->ColumnText(7)}};
  }
  Json variants = Json::array();
  Json totals = {{"queued", 0}, {"running", 0}, {"done", 0}, {"failed", 0}, {"cancelled", 0}, {"held", 0},
                 {"not_needed", 0}};
  int64_t total = 0;
  {
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT v.name, v.role, v.preset, COUNT(j.id), SUM(j.state = 'queued'), SUM(j.state = 'running'), "
        "SUM(j.state = 'done'), SUM(j.state = 'failed'), SUM(j.state = 'cancelled'), SUM(j.state = 'held'), "
        "SUM(j.state = 'not_needed') FROM variants v "
        "LEFT JOIN jobs j ON j.sweep_id = v.sweep_id AND j.variant = v.name WHERE v.sweep_id = ? "
        "GROUP BY v.name ORDER BY MIN(j.ord)"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      Json states = {{"queued", q->ColumnInt(4)}, {"running", q->ColumnInt(5)}, {"done", q->ColumnInt(6)},
                     {"failed", q->ColumnInt(7)}, {"cancelled", q->ColumnInt(8)}, {"held", q->ColumnInt(9)},
                     {"not_needed", q->ColumnInt(10)}};
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
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT AVG(d) FROM (SELECT a.ended_at - a.started_at AS d FROM attempts a JOIN jobs j ON j.id = a.job_id "
        "WHERE j.sweep_id = ? AND a.state = 'succeeded' ORDER BY a.id DESC LIMIT 200)"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id));
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
    AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
        "SELECT j.id, j.key, j.variant, j.seed, j.partition, a.worker_id, a.started_at, "
        "(SELECT e.data FROM epochs e WHERE e.attempt_id = a.id ORDER BY e.epoch DESC LIMIT 1) "
        "FROM jobs j JOIN attempts a ON a.id = j.current_attempt "
        "WHERE j.sweep_id = ? AND j.state = 'running' ORDER BY j.ord LIMIT ?"));
    AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id, kStatusRunningRows));
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
  out["finished"] = totals["queued"].get<int64_t>() == 0 && totals["running"].get<int64_t>() == 0 &&
                    totals["held"].get<int64_t>() == 0;
  out["now"] = now;
  return out;
}

Result<Json> Record::Jobs(int64_t sweep_id, const std::string& state) {
  if (!state.empty()) AVCTL_RETURN_IF_ERROR(ParseJobState(state).status());
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT j.id, j.key, j.variant, j.point, j.seed, j.partition, j.state, j.attempts, j.max_attempts, "
      "COALESCE(j.reason, ''), COALESCE(a.worker_id, ''), r.metrics FROM jobs j "
      "LEFT JOIN attempts a ON a.id = j.current_attempt LEFT JOIN results r ON r.job_id = j.id "
      "WHERE j.sweep_id = ? AND (? = '' OR j.state = ?) ORDER BY j.ord"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id, state, state));
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

Result<std::vector<ResultRow>> Record::Results(int64_t sweep_id) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT j.key, j.variant, j.point, j.seed, j.partition, r.attempt_id, a.worker_id, "
      "COALESCE(r.compute_seconds, a.ended_at - a.started_at), r.metrics, a.ended_at - a.started_at "
      "FROM results r JOIN jobs j ON j.id = r.job_id "
      "JOIN attempts a ON a.id = r.attempt_id WHERE j.sweep_id = ? ORDER BY j.ord"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_id));
  std::vector<ResultRow> out;
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    ResultRow r;
    r.key = q->ColumnText(0);
    r.variant = q->ColumnText(1);
    r.point = q->ColumnText(2);
    r.seed = static_cast<uint64_t>(q->ColumnInt(3));
    r.partition = static_cast<int>(q->ColumnInt(4));
    r.attempt_id = q->ColumnInt(5);
    r.worker = q->ColumnText(6);
    r.seconds = q->ColumnDouble(7);
    r.wall_seconds = q->ColumnDouble(9);
    // Stored only after it parsed (common/job_result): one that no longer
    // reads is named, not skipped.
    auto metrics = ParseJson(q->ColumnText(8), "results.metrics");
    if (!metrics.ok()) return Status::Corruption(fmt::format("the stored metrics of job {}: {}", r.key,
                                                             metrics.status().message()));
    auto numbers = ReadSplitMetrics(*metrics, fmt::format("the stored metrics of job {}", r.key));
    if (!numbers.ok()) return Status::Corruption(numbers.status().message());
    r.metrics = std::move(*numbers);
    out.push_back(std::move(r));
  }
  return out;
}

Result<Json> Record::CodeVersions(const std::string& sweep_name) {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT j.variant, COALESCE(json_extract(r.result, '$.provenance.command.script'), ''), "
      "COALESCE(json_extract(r.result, '$.provenance.command.script_sha256'), ''), COUNT(*), "
      "COALESCE(json_extract(r.result, '$.provenance.command.git.commit'), '') "
      "FROM results r JOIN jobs j ON j.id = r.job_id JOIN sweeps s ON s.id = j.sweep_id "
      "WHERE s.name = ? AND j.kind = 'command' GROUP BY 1, 2, 3, 5 ORDER BY 1, 4 DESC, 3, 5"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, sweep_name));
  Json out = Json::array();
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    out.push_back({{"variant", q->ColumnText(0)}, {"script", q->ColumnText(1)}, {"script_sha256", q->ColumnText(2)},
                   {"git_commit", q->ColumnText(4)}, {"results", q->ColumnInt(3)}});
  }
  return out;
}

Result<Json> Record::Workers() {
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
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
  AVCTL_ASSIGN_OR_RETURN(StatementRef q, cache_->Get(
      "SELECT id, at, kind, COALESCE(sweep_id, 0), COALESCE(job_id, 0), COALESCE(attempt_id, 0), "
      "COALESCE(worker_id, ''), message FROM events WHERE id > ? ORDER BY id LIMIT ?"));
  AVCTL_RETURN_IF_ERROR(BindRow(*q, after_id, limit));
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

}  // namespace avctl
