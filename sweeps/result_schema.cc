#include "sweeps/result_schema.h"

#include <fmt/format.h>

#include "common/text.h"

namespace avctl {

const std::vector<ResultField>& ResultFields() {
  static const std::vector<ResultField> kFields = {
      {"status", "string", true, "\"ok\""},
      {"compute_seconds", "number", true, "the attempt's work on the worker, measured there (seconds, >= 0)"},
      {"compute_seconds_source", "string", false,
       "set by the coordinator when compute_seconds is not the worker's measurement (a protocol-1 worker's result)"},
      {"test", "object", true, "the evaluation on the test split"},
      {"test.metrics", "object", true, "numbers (and per_class); for train jobs at least macro_f1 and accuracy (in [0, 1])"},
      {"test.metrics.per_class", "array", false, "per class: precision, recall, f1, support, ..."},
      {"test.confusion", "array", false, "6 x 6 counts, row-major, rows = truth in common/emotions.h order"},
      {"dev", "object", false, "the evaluation on the development split, as test"},
      {"selected_epoch", "integer", false, "the epoch whose model was tested"},
      {"epochs", "array", false, "per epoch: epoch, train_loss, dev_loss, dev_macro_f1, lr, seconds, ..."},
      {"config", "object", false, "the job as the worker trained it (sweeps/job_config)"},
      {"train_clips_per_s", "number", false, "training throughput"},
      {"data_wait_share", "number", false, "share of training time spent waiting for batches"},
      {"peak_rss_mib", "number", false, "peak resident memory of the job's process"},
      {"peak_device_memory_mib", "number|null", false, "peak GPU memory (null on CPU)"},
      {"deterministic", "boolean", false, "whether the run used deterministic algorithms"},
      {"device", "string", false, "what it ran on (\"cpu\", \"cuda:0\")"},
      {"threads", "integer", false, "intra-op threads"},
      {"wall_seconds", "number", false, "the trainer's own measurement of TrainJob"},
      {"code_version", "string", false, "the worker's code version"},
      {"store", "object", false, "synthetic, audio_checksum, visual_checksum, clips of the feature store"},
  };
  return kFields;
}

namespace {

const Json* Find(const Json& root, const std::string& dotted) {
  const Json* at = &root;
  for (std::string_view part : SplitOn(dotted, '.')) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(std::string(part));
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

bool HasType(const Json& v, const std::string& type) {
  for (std::string_view t : SplitOn(type, '|')) {
    if ((t == "string" && v.is_string()) || (t == "number" && v.is_number()) || (t == "object" && v.is_object()) ||
        (t == "array" && v.is_array()) || (t == "boolean" && v.is_boolean()) ||
        (t == "integer" && v.is_number_integer()) || (t == "null" && v.is_null())) {
      return true;
    }
  }
  return false;
}

Status Bad(const std::string& path, const std::string& what) {
  const std::string field = "result." + path;
  return Status::InvalidArgument(fmt::format("{}: {}", field, what)).WithField(field);
}

}  // namespace

Status ValidateResult(const Json& result, JobKind kind) {
  if (!result.is_object()) return Status::InvalidArgument("result: expected an object, got " + DescribeJson(result))
                                   .WithField("result");
  for (const ResultField& f : ResultFields()) {
    const Json* v = Find(result, f.path);
    if (v == nullptr) {
      if (f.required) return Bad(f.path, fmt::format("missing (required: {})", f.meaning));
      continue;
    }
    if (!HasType(*v, f.type)) return Bad(f.path, fmt::format("expected {}, got {}", f.type, DescribeJson(*v)));
  }
  if (result["status"] != "ok") return Bad("status", "expected \"ok\", got " + result["status"].dump());
  if (result["compute_seconds"].get<double>() < 0) return Bad("compute_seconds", "must not be negative");
  for (const auto& [name, value] : result["test"]["metrics"].items()) {
    if (name == "per_class") {
      if (!value.is_array()) return Bad("test.metrics.per_class", "expected an array, got " + DescribeJson(value));
      continue;
    }
    if (!value.is_number()) return Bad("test.metrics." + name, "expected a number, got " + DescribeJson(value));
  }
  if (kind == JobKind::kTrain) {
    for (const char* metric : {"macro_f1", "accuracy"}) {
      const Json* v = Find(result, std::string("test.metrics.") + metric);
      if (v == nullptr) return Bad(std::string("test.metrics.") + metric, "missing (required of a train job)");
      const double x = v->get<double>();
      if (!(x >= 0 && x <= 1)) return Bad(std::string("test.metrics.") + metric, fmt::format("{} is not in [0, 1]", x));
    }
  }
  return Status::OK();
}

}  // namespace avctl
