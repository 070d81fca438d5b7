#include "web/report_loader.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <set>

#include <fmt/format.h>

#include "common/text.h"

namespace avctl {

namespace {

RunResources ResourcesOf(const Json& res) {
  RunResources m;
  auto number = [&](const char* key, double fallback) {
    return res.contains(key) && res[key].is_number() ? res[key].get<double>() : fallback;
  };
  if (!res.contains("train_clips_per_s") || !res["train_clips_per_s"].is_number()) return m;
  m.measured = true;
  m.device = res.contains("device") && res["device"].is_string() ? res["device"].get<std::string>() : "";
  m.train_clips_per_s = number("train_clips_per_s", 0);
  m.data_wait_share = number("data_wait_share", -1);
  m.peak_rss_mib = number("peak_rss_mib", 0);
  m.peak_device_mib = number("peak_device_memory_mib", -1);
  m.deterministic = !res.contains("deterministic") || !res["deterministic"].is_boolean() ||
                    res["deterministic"].get<bool>();
  return m;
}

Json ParseOr(const std::string& text, Json fallback) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

std::string IsoNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::map<std::string, double> ParsePoint(const std::string& point) {
  std::map<std::string, double> out;
  for (std::string_view part : SplitOn(point, ',')) {
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string value(part.substr(eq + 1));
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end != value.c_str() && *end == '\0') out[std::string(part.substr(0, eq))] = v;
  }
  return out;
}

Result<ReportData> LoadReportData(Database* db, const std::string& sweep) {
  ReportData d;
  {
    const bool numeric = !sweep.empty() && std::all_of(sweep.begin(), sweep.end(), [](char c) { return std::isdigit(c); });
    AVCTL_ASSIGN_OR_RETURN(Statement q, db->Prepare(
        std::string("SELECT id, name, source, alpha, comparisons, dataset FROM sweeps WHERE ") +
        (numeric ? "id = ?" : "name = ?")));
    if (numeric) {
      AVCTL_RETURN_IF_ERROR(q.BindInt(1, std::atoll(sweep.c_str())));
    } else {
      AVCTL_RETURN_IF_ERROR(q.BindText(1, sweep));
    }
    AVCTL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound(fmt::format("no sweep \"{}\" in the record", sweep)).WithFile(db->path());
    d.sweep_id = q.ColumnInt(0);
    d.sweep_name = q.ColumnText(1);
    d.source = q.ColumnText(2);
    d.alpha = q.ColumnDouble(3);
    for (const auto& c : ParseOr(q.ColumnText(4), Json::array())) {
      ReportComparison rc;
      rc.variant = c.value("variant", "");
      rc.baselines = c.value("baselines", std::vector<std::string>{});
      rc.metric = c.value("metric", "macro_f1");
      rc.direction = c.value("direction", "greater");
      rc.min_effect = c.value("min_effect", 0.0);
      d.comparisons.push_back(rc);
    }
    d.dataset = ParseOr(q.ColumnText(5), Json::object());
  }
  {
    AVCTL_ASSIGN_OR_RETURN(Statement q, db->Prepare(
        "SELECT v.name, v.role, v.preset FROM variants v LEFT JOIN jobs j ON j.sweep_id = v.sweep_id AND "
        "j.variant = v.name WHERE v.sweep_id = ? GROUP BY v.name ORDER BY MIN(j.ord)"));
    AVCTL_RETURN_IF_ERROR(q.BindInt(1, d.sweep_id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      d.variants.push_back({q.ColumnText(0), q.ColumnText(1), q.ColumnText(2)});
    }
  }
  std::set<std::string> versions;
  {
    // The stored result's attempt, or else the job's latest attempt.
    AVCTL_ASSIGN_OR_RETURN(Statement q, db->Prepare(
        "SELECT j.key, j.variant, j.point, j.seed, j.partition, j.state, j.attempts, COALESCE(j.reason, ''), "
        "COALESCE(a.worker_id, ''), COALESCE(w.device, ''), COALESCE(a.started_at, 0), COALESCE(a.ended_at, 0), "
        "r.result IS NOT NULL, COALESCE(r.result, '') FROM jobs j "
        "LEFT JOIN results r ON r.job_id = j.id "
        "LEFT JOIN attempts a ON a.id = COALESCE(r.attempt_id, (SELECT MAX(id) FROM attempts x WHERE x.job_id = j.id)) "
        "LEFT JOIN workers w ON w.id = a.worker_id WHERE j.sweep_id = ? ORDER BY j.ord"));
    AVCTL_RETURN_IF_ERROR(q.BindInt(1, d.sweep_id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ReportRun r;
      r.key = q.ColumnText(0);
      r.variant = q.ColumnText(1);
      r.point = q.ColumnText(2);
      r.seed = static_cast<uint64_t>(q.ColumnInt(3));
      r.partition = static_cast<int>(q.ColumnInt(4));
      r.state = q.ColumnText(5);
      r.attempts = static_cast<int>(q.ColumnInt(6));
      r.reason = q.ColumnText(7);
      r.worker = q.ColumnText(8);
      r.device = q.ColumnText(9);
      r.started_at = q.ColumnDouble(10);
      r.ended_at = q.ColumnDouble(11);
      r.seconds = r.ended_at > r.started_at ? r.ended_at - r.started_at : 0;
      r.params = ParsePoint(r.point);
      r.has_result = q.ColumnInt(12) != 0;
      if (r.has_result) {
        const Json res = ParseOr(q.ColumnText(13), Json::object());
        if (res.contains("test") && res["test"].is_object()) {
          const Json& t = res["test"];
          if (t.contains("metrics") && t["metrics"].is_object()) {
            for (const auto& [k, v] : t["metrics"].items()) {
              if (v.is_number()) r.metrics[k] = v.get<double>();
            }
          }
          if (t.contains("confusion") && t["confusion"].is_array()) {
            for (const auto& c : t["confusion"]) r.confusion.push_back(c.is_number() ? c.get<int64_t>() : 0);
          }
        }
        r.selected_epoch = res.value("selected_epoch", 0);
        r.resources = ResourcesOf(res);
        for (const auto& e : res.value("epochs", Json::array())) {
          r.epochs.push_back({e.value("epoch", 0), e.value("train_loss", 0.0), e.value("dev_loss", 0.0),
                              e.value("dev_macro_f1", 0.0)});
        }
        if (res.contains("code_version") && res["code_version"].is_string()) {
          versions.insert(res["code_version"].get<std::string>());
        }
        if (d.store.empty() && res.contains("store") && res["store"].is_object()) {
          d.store = res["store"];
          d.store.erase("dir");
        }
      }
      d.runs.push_back(std::move(r));
    }
  }
  d.code_versions.assign(versions.begin(), versions.end());
  {
    AVCTL_ASSIGN_OR_RETURN(Statement q, db->Prepare(
        "SELECT MIN(a.started_at), MAX(a.ended_at), "
        "SUM(CASE WHEN w.device LIKE 'cuda%' THEN a.ended_at - a.started_at ELSE 0 END), "
        "SUM(CASE WHEN w.device LIKE 'cuda%' THEN 0 ELSE a.ended_at - a.started_at END) FROM attempts a "
        "JOIN jobs j ON j.id = a.job_id LEFT JOIN workers w ON w.id = a.worker_id "
        "WHERE j.sweep_id = ? AND a.ended_at IS NOT NULL"));
    AVCTL_RETURN_IF_ERROR(q.BindInt(1, d.sweep_id));
    AVCTL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row && !q.ColumnIsNull(0)) {
      d.wall_seconds = q.ColumnDouble(1) - q.ColumnDouble(0);
      d.gpu_hours = q.ColumnDouble(2) / 3600;
      d.cpu_hours = q.ColumnDouble(3) / 3600;
    }
  }
  {
    AVCTL_ASSIGN_OR_RETURN(Statement q, db->Prepare(
        "SELECT DISTINCT w.id, w.hostname, w.device, w.gpu_name, w.slots FROM workers w JOIN attempts a ON "
        "a.worker_id = w.id JOIN jobs j ON j.id = a.job_id WHERE j.sweep_id = ? ORDER BY w.id"));
    AVCTL_RETURN_IF_ERROR(q.BindInt(1, d.sweep_id));
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      d.workers.push_back({{"id", q.ColumnText(0)}, {"hostname", q.ColumnText(1)}, {"device", q.ColumnText(2)},
                           {"gpu_name", q.ColumnText(3)}, {"slots", q.ColumnInt(4)}});
    }
  }
  d.generated_at = IsoNow();
  return d;
}

}  // namespace avctl
