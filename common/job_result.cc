#include "common/job_result.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

namespace avctl {

const char* ResultStatusName(ResultStatus s) {
  switch (s) {
    case ResultStatus::kOk: return "ok";
    case ResultStatus::kFailed: return "failed";
    case ResultStatus::kPreempted: return "preempted";
  }
  return "?";
}

std::vector<int64_t> SplitEvaluation::ConfusionOrCounted(size_t k) const {
  if (!confusion.empty()) {
    const auto side = static_cast<size_t>(std::llround(std::sqrt(static_cast<double>(confusion.size()))));
    return k == 0 || side == k ? confusion : std::vector<int64_t>{};
  }
  size_t seen = 0;
  bool labelled = false;
  for (const Prediction& p : predictions) {
    if (p.label < 0 || p.pred < 0) continue;
    labelled = true;
    seen = std::max(seen, static_cast<size_t>(std::max(p.label, p.pred)) + 1);
  }
  if (!labelled) return {};
  if (k == 0) k = seen;
  if (seen > k) return {};  // an index beyond the classes: ParseJobResult refuses such a result
  std::vector<int64_t> counts(k * k, 0);
  for (const Prediction& p : predictions) {
    if (p.label < 0 || p.pred < 0) continue;
    ++counts[static_cast<size_t>(p.label) * k + static_cast<size_t>(p.pred)];
  }
  return counts;
}

std::optional<double> SplitEvaluation::Metric(const std::string& name) const {
  auto it = metrics.find(name);
  if (it == metrics.end()) return std::nullopt;
  return it->second;
}

const std::vector<ResultField>& ResultFields() {
  static const std::vector<ResultField> kFields = {
      {"status", "string", true, "\"ok\" (a result); a job's own result.json may also say \"failed\" or \"preempted\""},
      {"compute_seconds", "number", true, "the attempt's work on the worker, measured there (seconds, >= 0)"},
      {"compute_seconds_source", "string", false,
       "set by the coordinator when compute_seconds is not the worker's measurement (a protocol-1 worker's result)"},
      {"class_names", "array", false, "the class names in class-index order, when metrics are per class"},
      {"test", "object", true, "the evaluation on the test split"},
      {"test.metrics", "object", true,
       "numbers of any name (and per_class); for train jobs at least macro_f1 and accuracy (in [0, 1])"},
      {"test.metrics.per_class", "array", false, "per class: objects of numbers (precision, recall, f1, support, ...)"},
      {"test.loss", "number", false, "the loss on the split"},
      {"test.confusion", "array", false, "k x k counts, row-major, rows = truth, k = the number of classes"},
      {"test.predictions", "array", false, "per example: id, label (true class index), pred, probs"},
      {"dev", "object", false, "the evaluation on the development split, as test"},
      {"selected_epoch", "integer", false, "the epoch whose model was tested"},
      {"epochs", "array", false, "curves: per epoch, numbers by name (epoch, train_loss, dev_loss, dev_macro_f1, ...)"},
      {"resume", "object", false, "resumed, skipped, and when resumed: from, epochs, batches, attempt_id"},
      {"config", "object", false, "the job as the worker trained it (sweeps/job_config)"},
      {"train_clips_per_s", "number", false, "training throughput"},
      {"data_wait_share", "number", false, "share of training time spent waiting for batches"},
      {"peak_rss_mib", "number", false, "peak resident memory of the job's process"},
      {"peak_device_memory_mib", "number|null", false, "peak GPU memory (null on CPU)"},
      {"deterministic", "boolean", false, "whether the run used deterministic algorithms"},
      {"device", "string", false, "what it ran on (\"cpu\", \"cuda:0\")"},
      {"threads", "integer", false, "intra-op threads"},
      {"cpu_capability", "string", false, "ATen's CPU kernels (\"avx2\"); CPU results are bit-identical only within one"},
      {"blas_core", "string", false, "OpenBLAS's core (\"SkylakeX\")"},
      {"wall_seconds", "number", false, "the trainer's own measurement of its work"},
      {"code_version", "string", false, "the worker's code version"},
      {"store", "object", false, "synthetic, audio_checksum, visual_checksum, clips of the feature store, and labels: how the labels of a store made from a generic or MSP-Podcast file were read (common/label_provenance.h)"},
      {"provenance", "object", false, "how a command job was run: argv, env, script hash, interpreter, git commit"},
      {"reason", "string", false, "failed or preempted: why"},
      {"kind", "string", false, "failed: \"job\" (default, not retried), \"crash\" or \"worker\""},
      {"out_of_memory", "boolean", false, "failed: the device ran out of memory"},
  };
  return kFields;
}

namespace {

Status Bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument(fmt::format("{}: {}", path, what)).WithField(path);
}

Status Expected(const std::string& path, const char* type, const Json& got) {
  return Bad(path, fmt::format("expected {}, got {}", type, DescribeJson(got)));
}

// Numbers by name into `out`; booleans read as 0 or 1; null (a NaN as JSON
// writes it) is left out. `skip` names members read elsewhere. With
// `prefix` (curves), nested objects of numbers are read as "outer.inner".
Status ReadNumbersInto(const Json& j, const std::string& path, const std::set<std::string>& skip, bool nested,
                       const std::string& prefix, std::map<std::string, double>* out) {
  if (!j.is_object()) return Expected(path, "an object", j);
  for (const auto& [name, v] : j.items()) {
    if (skip.count(name)) continue;
    const std::string field = JoinJsonPath(path, name);
    if (v.is_boolean()) {
      (*out)[prefix + name] = v.get<bool>() ? 1 : 0;
    } else if (v.is_number()) {
      const double x = v.get<double>();
      if (!std::isfinite(x)) return Bad(field, "not a finite number");
      (*out)[prefix + name] = x;
    } else if (v.is_null()) {
      continue;
    } else if (nested && v.is_object()) {
      AVCTL_RETURN_IF_ERROR(ReadNumbersInto(v, field, {}, false, prefix + name + ".", out));
    } else {
      return Expected(field, "a number", v);
    }
  }
  return Status::OK();
}

Result<std::map<std::string, double>> ReadNumbers(const Json& j, const std::string& path,
                                                  const std::set<std::string>& skip = {}, bool nested = false) {
  std::map<std::string, double> out;
  AVCTL_RETURN_IF_ERROR(ReadNumbersInto(j, path, skip, nested, "", &out));
  return out;
}

}  // namespace

Result<std::map<std::string, double>> ReadSplitMetrics(const Json& metrics, const std::string& path) {
  return ReadNumbers(metrics, path, {"per_class"});
}

namespace {

Result<std::vector<int64_t>> ReadCounts(const Json& j, const std::string& path) {
  if (!j.is_array()) return Expected(path, "an array", j);
  std::vector<int64_t> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& c = j[i];
    if (!c.is_number_integer() || c.get<int64_t>() < 0) return Expected(JoinJsonPath(path, i), "a count", c);
    out.push_back(c.get<int64_t>());
  }
  return out;
}

Result<Prediction> ReadPrediction(const Json& j, const std::string& path) {
  if (!j.is_object()) return Expected(path, "an object", j);
  Prediction p;
  if (auto it = j.find("id"); it != j.end()) {
    if (it->is_string()) {
      p.id = it->get<std::string>();
    } else if (it->is_number_integer()) {
      p.id = std::to_string(it->get<int64_t>());
    } else {
      return Expected(JoinJsonPath(path, "id"), "a string", *it);
    }
  }
  AVCTL_ASSIGN_OR_RETURN(p.label, GetIntOr(j, "label", path, -1));
  AVCTL_ASSIGN_OR_RETURN(p.pred, GetInt(j, "pred", path));
  if (j.contains("probs")) {
    AVCTL_ASSIGN_OR_RETURN(p.probs, GetNumberArray(j, "probs", path));
  }
  return p;
}

Result<SplitEvaluation> ReadSplit(const Json& j, const std::string& path) {
  if (!j.is_object()) return Expected(path, "an object", j);
  SplitEvaluation s;
  if (j.contains("loss") && !j["loss"].is_null()) {
    AVCTL_ASSIGN_OR_RETURN(s.loss, GetNumber(j, "loss", path));
  }
  AVCTL_ASSIGN_OR_RETURN(const Json* metrics, GetMember(j, "metrics", path));
  const std::string mpath = JoinJsonPath(path, "metrics");
  AVCTL_ASSIGN_OR_RETURN(s.metrics, ReadSplitMetrics(*metrics, mpath));
  if (auto it = metrics->find("per_class"); it != metrics->end()) {
    const std::string ppath = JoinJsonPath(mpath, "per_class");
    if (!it->is_array()) return Expected(ppath, "an array", *it);
    for (size_t i = 0; i < it->size(); ++i) {
      AVCTL_ASSIGN_OR_RETURN(auto row, ReadNumbers((*it)[i], JoinJsonPath(ppath, i)));
      s.per_class.push_back(std::move(row));
    }
  }
  if (j.contains("confusion")) {
    AVCTL_ASSIGN_OR_RETURN(s.confusion, ReadCounts(j["confusion"], JoinJsonPath(path, "confusion")));
    const auto k = static_cast<size_t>(std::llround(std::sqrt(static_cast<double>(s.confusion.size()))));
    if (k * k != s.confusion.size()) {
      return Bad(JoinJsonPath(path, "confusion"), fmt::format("{} counts are not a square matrix", s.confusion.size()));
    }
  }
  if (j.contains("predictions")) {
    const std::string ppath = JoinJsonPath(path, "predictions");
    const Json& ps = j["predictions"];
    if (!ps.is_array()) return Expected(ppath, "an array", ps);
    s.predictions.reserve(ps.size());
    for (size_t i = 0; i < ps.size(); ++i) {
      AVCTL_ASSIGN_OR_RETURN(Prediction p, ReadPrediction(ps[i], JoinJsonPath(ppath, i)));
      s.predictions.push_back(std::move(p));
    }
  }
  return s;
}

Json SplitToJson(const SplitEvaluation& s) {
  Json metrics = Json::object();
  for (const auto& [k, v] : s.metrics) metrics[k] = v;
  if (!s.per_class.empty()) {
    Json rows = Json::array();
    for (const auto& row : s.per_class) rows.push_back(Json(row));
    metrics["per_class"] = std::move(rows);
  }
  Json j = {{"metrics", std::move(metrics)}};
  if (s.loss) j["loss"] = *s.loss;
  if (!s.confusion.empty()) j["confusion"] = s.confusion;
  if (!s.predictions.empty()) {
    Json ps = Json::array();
    for (const Prediction& p : s.predictions) ps.push_back(PredictionToJson(p));
    j["predictions"] = std::move(ps);
  }
  return j;
}

Result<ResumePosition> ReadResume(const Json& j, const std::string& path) {
  if (!j.is_object()) return Expected(path, "an object", j);
  ResumePosition r;
  if (j.contains("resumed")) {
    AVCTL_ASSIGN_OR_RETURN(r.resumed, GetBool(j, "resumed", path));
  }
  if (auto it = j.find("skipped"); it != j.end()) {
    const std::string spath = JoinJsonPath(path, "skipped");
    if (!it->is_array()) return Expected(spath, "an array", *it);
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) return Expected(JoinJsonPath(spath, i), "a string", (*it)[i]);
      r.skipped.push_back((*it)[i].get<std::string>());
    }
  }
  if (r.resumed) {
    AVCTL_ASSIGN_OR_RETURN(r.from, GetString(j, "from", path));
    AVCTL_ASSIGN_OR_RETURN(r.epochs, GetInt(j, "epochs", path));
    AVCTL_ASSIGN_OR_RETURN(r.batches, GetIntOr(j, "batches", path, 0));
    AVCTL_ASSIGN_OR_RETURN(r.attempt_id, GetIntOr(j, "attempt_id", path, 0));
  }
  return r;
}

Result<std::optional<double>> OptionalNumber(const Json& j, const char* key, const std::string& path,
                                             bool null_ok = false) {
  auto it = j.find(key);
  if (it == j.end() || (null_ok && it->is_null())) return std::optional<double>();
  if (!it->is_number()) return Expected(JoinJsonPath(path, key), null_ok ? "a number or null" : "a number", *it);
  return std::optional<double>(it->get<double>());
}

Result<Json> OptionalObject(const Json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Json();
  if (!it->is_object()) return Expected(JoinJsonPath(path, key), "an object", *it);
  return *it;
}

// Top-level members read into typed fields; everything else goes to extra.
const std::set<std::string>& KnownTopLevel() {
  static const std::set<std::string> kKnown = {
      "status", "reason", "kind", "out_of_memory", "compute_seconds", "compute_seconds_source", "class_names",
      "test", "dev", "selected_epoch", "epochs", "resume", "train_clips_per_s", "data_wait_share", "peak_rss_mib",
      "peak_device_memory_mib", "wall_seconds", "deterministic", "threads", "device", "cpu_capability", "blas_core",
      "code_version", "config", "store", "provenance"};
  return kKnown;
}

Status ReadResources(const Json& j, const std::string& path, ResultResources* r) {
  AVCTL_ASSIGN_OR_RETURN(r->train_clips_per_s, OptionalNumber(j, "train_clips_per_s", path));
  AVCTL_ASSIGN_OR_RETURN(r->data_wait_share, OptionalNumber(j, "data_wait_share", path));
  AVCTL_ASSIGN_OR_RETURN(r->peak_rss_mib, OptionalNumber(j, "peak_rss_mib", path));
  AVCTL_ASSIGN_OR_RETURN(r->peak_device_memory_mib, OptionalNumber(j, "peak_device_memory_mib", path, true));
  AVCTL_ASSIGN_OR_RETURN(r->wall_seconds, OptionalNumber(j, "wall_seconds", path));
  if (j.contains("deterministic")) {
    AVCTL_ASSIGN_OR_RETURN(r->deterministic, GetBool(j, "deterministic", path));
  }
  if (j.contains("threads")) {
    AVCTL_ASSIGN_OR_RETURN(r->threads, GetInt(j, "threads", path));
  }
  AVCTL_ASSIGN_OR_RETURN(r->device, GetStringOr(j, "device", path, ""));
  AVCTL_ASSIGN_OR_RETURN(r->cpu_capability, GetStringOr(j, "cpu_capability", path, ""));
  AVCTL_ASSIGN_OR_RETURN(r->blas_core, GetStringOr(j, "blas_core", path, ""));
  return Status::OK();
}

}  // namespace

Result<JobResult> ParseJobResult(const Json& j, const ResultParseOptions& options) {
  const std::string& path = options.path;
  if (!j.is_object()) return Expected(path, "an object", j);
  JobResult r;
  AVCTL_ASSIGN_OR_RETURN(const Json* status, GetMember(j, "status", path));
  const std::string spath = JoinJsonPath(path, "status");
  if (*status == "ok") {
    r.status = ResultStatus::kOk;
  } else if (*status == "failed") {
    r.status = ResultStatus::kFailed;
  } else if (*status == "preempted") {
    r.status = ResultStatus::kPreempted;
  } else {
    return Bad(spath, "expected \"ok\", \"failed\" or \"preempted\", got " + DescribeJson(*status));
  }
  AVCTL_ASSIGN_OR_RETURN(r.reason, GetStringOr(j, "reason", path, ""));
  if (j.contains("kind")) {
    AVCTL_ASSIGN_OR_RETURN(std::string kind, GetString(j, "kind", path));
    AVCTL_ASSIGN_OR_RETURN(r.failure_kind, ParseFailureKind(kind, JoinJsonPath(path, "kind")));
  }
  if (j.contains("out_of_memory")) {
    AVCTL_ASSIGN_OR_RETURN(r.out_of_memory, GetBool(j, "out_of_memory", path));
  }
  AVCTL_ASSIGN_OR_RETURN(r.compute_seconds, OptionalNumber(j, "compute_seconds", path));
  if (r.compute_seconds && !(*r.compute_seconds >= 0)) {
    return Bad(JoinJsonPath(path, "compute_seconds"), "must not be negative");
  }
  AVCTL_ASSIGN_OR_RETURN(r.compute_seconds_source, GetStringOr(j, "compute_seconds_source", path, ""));
  if (j.contains("class_names")) {
    const std::string cpath = JoinJsonPath(path, "class_names");
    const Json& names = j["class_names"];
    if (!names.is_array()) return Expected(cpath, "an array", names);
    for (size_t i = 0; i < names.size(); ++i) {
      if (!names[i].is_string()) return Expected(JoinJsonPath(cpath, i), "a string", names[i]);
      r.class_names.push_back(names[i].get<std::string>());
    }
  }
  if (r.status == ResultStatus::kOk) {
    if (!r.compute_seconds && options.require_compute_seconds) {
      return Bad(JoinJsonPath(path, "compute_seconds"), "missing (required: the attempt's work on the worker, seconds)");
    }
    AVCTL_ASSIGN_OR_RETURN(const Json* test, GetMember(j, "test", path));
    AVCTL_ASSIGN_OR_RETURN(r.test, ReadSplit(*test, JoinJsonPath(path, "test")));
  } else if (j.contains("test")) {
    AVCTL_ASSIGN_OR_RETURN(r.test, ReadSplit(j["test"], JoinJsonPath(path, "test")));
  }
  if (j.contains("dev")) {
    AVCTL_ASSIGN_OR_RETURN(r.dev, ReadSplit(j["dev"], JoinJsonPath(path, "dev")));
  }
  for (const SplitEvaluation* s : {&r.test, r.dev ? &*r.dev : nullptr}) {
    if (s == nullptr || r.class_names.empty()) continue;
    const std::string which = s == &r.test ? "test" : "dev";
    const size_t k = r.class_names.size();
    if (!s->per_class.empty() && s->per_class.size() != k) {
      return Bad(JoinJsonPath(path, which + ".metrics.per_class"),
                 fmt::format("{} rows for {} class_names", s->per_class.size(), k));
    }
    if (!s->confusion.empty() && s->confusion.size() != k * k) {
      return Bad(JoinJsonPath(path, which + ".confusion"),
                 fmt::format("{} counts for {} class_names (expected {})", s->confusion.size(), k, k * k));
    }
    for (size_t i = 0; i < s->predictions.size(); ++i) {
      const Prediction& p = s->predictions[i];
      if (p.pred < 0 || p.pred >= static_cast<int64_t>(k) || p.label >= static_cast<int64_t>(k)) {
        return Bad(JoinJsonPath(JoinJsonPath(path, which + ".predictions"), i),
                   fmt::format("class index beyond the {} class_names", k));
      }
    }
  }
  if (j.contains("selected_epoch")) {
    AVCTL_ASSIGN_OR_RETURN(r.selected_epoch, GetInt(j, "selected_epoch", path));
  }
  if (j.contains("epochs")) {
    const std::string epath = JoinJsonPath(path, "epochs");
    const Json& es = j["epochs"];
    if (!es.is_array()) return Expected(epath, "an array", es);
    for (size_t i = 0; i < es.size(); ++i) {
      AVCTL_ASSIGN_OR_RETURN(auto row, ReadNumbers(es[i], JoinJsonPath(epath, i), {}, true));
      r.epochs.push_back(std::move(row));
    }
  }
  if (j.contains("resume")) {
    AVCTL_ASSIGN_OR_RETURN(r.resume, ReadResume(j["resume"], JoinJsonPath(path, "resume")));
  }
  AVCTL_RETURN_IF_ERROR(ReadResources(j, path, &r.resources));
  AVCTL_ASSIGN_OR_RETURN(r.code_version, GetStringOr(j, "code_version", path, ""));
  AVCTL_ASSIGN_OR_RETURN(r.config, OptionalObject(j, "config", path));
  AVCTL_ASSIGN_OR_RETURN(r.store, OptionalObject(j, "store", path));
  AVCTL_ASSIGN_OR_RETURN(r.provenance, OptionalObject(j, "provenance", path));
  for (const auto& [k, v] : j.items()) {
    if (!KnownTopLevel().count(k)) r.extra[k] = v;
  }
  return r;
}

Status CheckResultFor(const JobResult& r, JobKind kind, const std::string& path) {
  if (r.status != ResultStatus::kOk) {
    return Bad(JoinJsonPath(path, "status"), fmt::format("expected \"ok\", got \"{}\"", ResultStatusName(r.status)));
  }
  if (kind != JobKind::kTrain) return Status::OK();
  for (const char* metric : {"macro_f1", "accuracy"}) {
    const std::string mpath = JoinJsonPath(path, std::string("test.metrics.") + metric);
    const std::optional<double> x = r.test.Metric(metric);
    if (!x) return Bad(mpath, "missing (required of a train job)");
    if (!(*x >= 0 && *x <= 1)) return Bad(mpath, fmt::format("{} is not in [0, 1]", *x));
  }
  return Status::OK();
}

Json PredictionToJson(const Prediction& p) {
  Json j = {{"id", p.id}, {"pred", p.pred}};
  if (p.label >= 0) j["label"] = p.label;
  if (!p.probs.empty()) j["probs"] = p.probs;
  return j;
}

Json ResumePositionToJson(const ResumePosition& r) {
  Json j = {{"resumed", r.resumed}, {"skipped", r.skipped}};
  if (r.resumed) {
    j["from"] = r.from;
    j["epochs"] = r.epochs;
    j["batches"] = r.batches;
    j["attempt_id"] = r.attempt_id;
  }
  return j;
}

Json JobResultToJson(const JobResult& r) {
  Json j = r.extra.is_object() ? r.extra : Json::object();
  j["status"] = ResultStatusName(r.status);
  if (r.status == ResultStatus::kFailed) {
    j["kind"] = FailureKindName(r.failure_kind);
    if (r.out_of_memory) j["out_of_memory"] = true;
  }
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (r.compute_seconds) j["compute_seconds"] = *r.compute_seconds;
  if (!r.compute_seconds_source.empty()) j["compute_seconds_source"] = r.compute_seconds_source;
  if (!r.class_names.empty()) j["class_names"] = r.class_names;
  if (r.status == ResultStatus::kOk || !r.test.metrics.empty()) j["test"] = SplitToJson(r.test);
  if (r.dev) j["dev"] = SplitToJson(*r.dev);
  if (r.selected_epoch) j["selected_epoch"] = *r.selected_epoch;
  if (!r.epochs.empty()) {
    Json es = Json::array();
    for (const auto& e : r.epochs) es.push_back(Json(e));
    j["epochs"] = std::move(es);
  }
  if (r.resume) j["resume"] = ResumePositionToJson(*r.resume);
  const ResultResources& res = r.resources;
  if (res.train_clips_per_s) j["train_clips_per_s"] = *res.train_clips_per_s;
  if (res.data_wait_share) j["data_wait_share"] = *res.data_wait_share;
  if (res.peak_rss_mib) j["peak_rss_mib"] = *res.peak_rss_mib;
  if (res.peak_device_memory_mib) {
    j["peak_device_memory_mib"] = *res.peak_device_memory_mib;
  } else if (!res.device.empty()) {
    j["peak_device_memory_mib"] = nullptr;  // measured: none (CPU)
  }
  if (res.wall_seconds) j["wall_seconds"] = *res.wall_seconds;
  if (res.deterministic) j["deterministic"] = *res.deterministic;
  if (res.threads) j["threads"] = *res.threads;
  if (!res.device.empty()) j["device"] = res.device;
  if (!res.cpu_capability.empty()) j["cpu_capability"] = res.cpu_capability;
  if (!res.blas_core.empty()) j["blas_core"] = res.blas_core;
  if (!r.code_version.empty()) j["code_version"] = r.code_version;
  if (r.config.is_object()) j["config"] = r.config;
  if (r.store.is_object()) j["store"] = r.store;
  if (r.provenance.is_object()) j["provenance"] = r.provenance;
  return j;
}

}  // namespace avctl
