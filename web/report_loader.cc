#include "web/report_loader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <set>

#include <fmt/format.h>

#include "common/job_result.h"
#include "common/text.h"
#include "sweeps/sweep_spec.h"

namespace avctl {

namespace {

RunResources ResourcesOf(const JobResult& res) {
  RunResources m;
  const ResultResources& r = res.resources;
  if (!r.train_clips_per_s) return m;
  m.measured = true;
  m.device = r.device;
  m.train_clips_per_s = *r.train_clips_per_s;
  m.data_wait_share = r.data_wait_share.value_or(-1);
  m.peak_rss_mib = r.peak_rss_mib.value_or(0);
  m.peak_device_mib = r.peak_device_memory_mib.value_or(-1);
  m.deterministic = r.deterministic.value_or(true);
  return m;
}

double ValueOr(const std::map<std::string, double>& row, const char* name, double fallback) {
  auto it = row.find(name);
  return it == row.end() ? fallback : it->second;
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

namespace {

// Coefficient of variation of the steps between sorted values.
double StepSpread(const std::vector<double>& v) {
  std::vector<double> d;
  for (size_t i = 1; i < v.size(); ++i) d.push_back(v[i] - v[i - 1]);
  double mean = 0;
  for (double x : d) mean += x;
  mean /= static_cast<double>(d.size());
  double ss = 0;
  for (double x : d) ss += (x - mean) * (x - mean);
  return mean > 0 ? std::sqrt(ss / static_cast<double>(d.size())) / mean : 0;
}

}  // namespace

bool LogScaledSpace(const Json& space) {
  if (space.is_object()) return space.contains("log_uniform");
  if (!space.is_array()) return false;
  std::vector<double> v;
  for (const auto& x : space) {
    if (!x.is_number() || x.get<double>() <= 0) return false;
    v.push_back(x.get<double>());
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  if (v.size() < 2 || v.back() / v.front() < 10) return false;
  if (v.size() == 2) return true;
  std::vector<double> logs;
  for (double x : v) logs.push_back(std::log(x));
  return StepSpread(logs) < StepSpread(v);
}

Result<ReportData> LoadReportData(Record* record, const std::string& sweep) {
  AVCTL_ASSIGN_OR_RETURN(SweepReportRows rows, record->ReportRows(sweep));
  ReportData d;
  d.sweep_id = rows.sweep.id;
  d.sweep_name = rows.sweep.name;
  d.source = rows.sweep.source;
  d.alpha = rows.sweep.alpha;
  for (const auto& c : rows.sweep.comparisons.is_array() ? rows.sweep.comparisons : Json::array()) {
    ReportComparison rc;
    rc.variant = c.value("variant", "");
    rc.baselines = c.value("baselines", std::vector<std::string>{});
    rc.metric = c.value("metric", "macro_f1");
    rc.direction = c.value("direction", "greater");
    rc.min_effect = c.value("min_effect", 0.0);
    rc.point = c.value("point", "");
    d.comparisons.push_back(rc);
  }
  d.dataset = rows.sweep.dataset.is_object() ? rows.sweep.dataset : Json::object();
  for (const auto& v : rows.variants) d.variants.push_back({v.name, v.role, v.preset});
  if (rows.sweep.spec.contains("variants") && rows.sweep.spec["variants"].is_array()) {
    for (const auto& v : rows.sweep.spec["variants"]) {
      if (!v.is_object() || !v.contains("space") || !v["space"].is_object()) continue;
      for (const auto& [param, space] : v["space"].items()) {
        if (LogScaledSpace(space)) d.log_scaled_params.insert(param);
      }
    }
  }
  std::set<std::string> versions;
  for (const RunRow& row : rows.runs) {
    ReportRun r;
    r.key = row.key;
    r.variant = row.variant;
    r.point = row.point;
    r.seed = row.seed;
    r.partition = row.partition;
    r.state = row.state;
    r.attempts = row.attempts;
    r.reason = row.reason;
    r.worker = row.worker;
    r.device = row.device;
    r.started_at = row.started_at;
    r.ended_at = row.ended_at;
    r.seconds = row.compute_seconds >= 0 ? row.compute_seconds
                : r.ended_at > r.started_at ? r.ended_at - r.started_at
                                            : 0;
    r.params = ParsePoint(r.point);
    r.has_result = row.has_result;
    if (r.has_result) {
      // Stored results were checked when they arrived; one that no longer
      // reads (a record edited by hand, a newer avctl's) is named, not skipped.
      ResultParseOptions options;
      options.require_compute_seconds = false;  // stored before protocol 2
      options.path = fmt::format("the stored result of job {}", row.key);
      auto parsed = ParseJobResult(row.result, options);
      if (!parsed.ok()) return Status::Corruption(parsed.status().message()).WithField(parsed.status().field());
      const JobResult& res = *parsed;
      r.metrics = res.test.metrics;
      // As given, or counted from per-example predictions with labels.
      r.confusion = res.test.ConfusionOrCounted(res.class_names.size());
      r.class_names = res.class_names;
      r.per_class = res.test.per_class;
      r.selected_epoch = static_cast<int>(res.selected_epoch.value_or(0));
      r.resources = ResourcesOf(res);
      for (const auto& e : res.epochs) {
        r.epochs.push_back({static_cast<int>(ValueOr(e, "epoch", 0)), ValueOr(e, "train_loss", 0.0),
                            ValueOr(e, "dev_loss", 0.0), ValueOr(e, "dev_macro_f1", 0.0)});
      }
      if (!res.resources.cpu_capability.empty()) {
        std::string kernels = res.resources.cpu_capability;
        if (!res.resources.blas_core.empty()) kernels += " + OpenBLAS " + res.resources.blas_core;
        ++d.cpu_kernels[kernels];
      }
      if (!res.code_version.empty()) versions.insert(res.code_version);
      if (res.provenance.is_object() && res.provenance.contains("command") && res.provenance["command"].is_object()) {
        const Json& command = res.provenance["command"];
        r.script = command.value("script", "");
        r.script_sha256 = command.value("script_sha256", "");
        if (command.contains("git") && command["git"].is_object()) r.git_commit = command["git"].value("commit", "");
      }
      if (d.store.empty() && res.store.is_object()) {
        d.store = res.store;
        d.store.erase("dir");
      }
    }
    d.runs.push_back(std::move(r));
  }
  d.code_versions.assign(versions.begin(), versions.end());
  for (const RestartRow& r : rows.restarts) {
    d.restarts.push_back({r.job_key, r.attempt_id, r.worker, r.state, r.reason, r.resumed_epochs, r.resumed_batches,
                          r.checkpoint_epochs, r.checkpoint_batches, r.seconds, r.lost_seconds});
  }
  if (rows.usage.any) {
    d.wall_seconds = rows.usage.last_end - rows.usage.first_start;
    d.gpu_hours = rows.usage.cuda_seconds / 3600;
    d.cpu_hours = rows.usage.cpu_seconds / 3600;
  }
  d.workers = rows.workers;
  if (rows.sweep.spec.is_object() && rows.sweep.spec.contains("sequential")) {
    // The spec as submitted (the coordinator parsed it then); its stages and looks.
    AVCTL_ASSIGN_OR_RETURN(SweepSpec spec, ParseSweepSpec(rows.sweep.spec, rows.sweep.source));
    if (spec.sequential) {
      d.sequential = spec.sequential;
      for (size_t i = 0; i < spec.seeds.size(); ++i) {
        d.seed_stage[spec.seeds[i]] =
            StageOfSeed(spec.sequential->design, static_cast<int>(i), static_cast<int>(spec.partitions.size()));
      }
      AVCTL_ASSIGN_OR_RETURN(d.looks, record->SequentialLooks(d.sweep_id));
    }
  }
  d.generated_at = IsoNow();
  return d;
}

}  // namespace avctl
