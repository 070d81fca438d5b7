// What a job hands back when it ends: the document a training program
// writes (result.json) and, when it succeeded, the "result" of the worker's
// result message (docs/PROTOCOL.md, "The result"). Its one typed home: the
// built-in trainer writes it with JobResultToJson, the worker daemon and the
// coordinator read it with ParseJobResult, and the record, the report and the
// status views read stored results through it.
//
// A document's status is "ok" (a result), "failed" (the job failed; kind and
// reason) or "preempted" (stopped on request after a checkpoint). An "ok"
// document carries at least compute_seconds and test.metrics (numbers of any
// name); the rest is optional and typed where present. Top-level fields this
// module does not know are kept as written (JobResult::extra), so that a
// result read and written again loses nothing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/protocol.h"
#include "common/status.h"

namespace avctl {

enum class ResultStatus { kOk, kFailed, kPreempted };
const char* ResultStatusName(ResultStatus s);  // "ok", "failed", "preempted"

// One example of an evaluated split.
struct Prediction {
  std::string id;             // the example (the clip's id)
  int64_t label = -1;         // the true class index; -1: not given
  int64_t pred = -1;          // the predicted class index
  std::vector<double> probs;  // optional class probabilities
};

// One split's evaluation.
struct SplitEvaluation {
  std::optional<double> loss;
  std::map<std::string, double> metrics;  // numbers of any name: macro_f1, accuracy, uar, ...
  // Per class, in the order of JobResult::class_names: numbers by name
  // (precision, recall, f1, support, ...; a boolean reads as 0 or 1).
  std::vector<std::map<std::string, double>> per_class;
  std::vector<int64_t> confusion;  // k x k counts, row-major, rows = truth; empty: none
  std::vector<Prediction> predictions;

  // The metric, if present.
  std::optional<double> Metric(const std::string& name) const;
  // The confusion matrix as given, else counted from the predictions that
  // carry a label; k x k with `k` classes (0: the given matrix's size, else
  // the largest class index seen + 1). Empty when there is neither, or when
  // the given one is not k x k.
  std::vector<int64_t> ConfusionOrCounted(size_t k = 0) const;
};

// Where the attempt began, when it resumed from a checkpoint.
struct ResumePosition {
  bool resumed = false;
  std::vector<std::string> skipped;  // checkpoints passed over, each with the reason
  std::string from;     // the checkpoint's path (resumed only)
  int64_t epochs = 0, batches = 0, attempt_id = 0;
};

// What the job took, as it measured it (all optional).
struct ResultResources {
  std::optional<double> train_clips_per_s, data_wait_share, peak_rss_mib, peak_device_memory_mib, wall_seconds;
  std::optional<bool> deterministic;
  std::optional<int64_t> threads;
  std::string device;          // "cpu", "cuda:0"
  std::string cpu_capability;  // ATen's kernels ("avx2")
  std::string blas_core;       // OpenBLAS's core ("SkylakeX")
};

struct JobResult {
  ResultStatus status = ResultStatus::kOk;
  // failed and preempted documents
  std::string reason;
  FailureKind failure_kind = FailureKind::kJob;  // failed: "job" unless the document says otherwise
  bool out_of_memory = false;                    // failed: the device ran out of memory

  std::optional<double> compute_seconds;  // required of "ok" (unless ParseOptions say otherwise)
  std::string compute_seconds_source;     // set by the coordinator when not the worker's measurement
  std::vector<std::string> class_names;   // when metrics are per class, in class-index order
  SplitEvaluation test;                   // required of "ok"
  std::optional<SplitEvaluation> dev;
  std::optional<int64_t> selected_epoch;
  // Curves: per epoch (or step), numbers by name (epoch, train_loss, dev_loss, dev_macro_f1, lr, seconds, ...);
  // a nested object of numbers reads as "outer.inner" ("costs.audio_recon").
  std::vector<std::map<std::string, double>> epochs;
  std::optional<ResumePosition> resume;
  ResultResources resources;
  std::string code_version;
  Json config;      // the job as trained (object), or null
  Json store;       // the feature store it read (object), or null
  Json provenance;  // how a command job was run (object), or null
  Json extra = Json::object();  // every other top-level field, as written
};

struct ResultParseOptions {
  // A protocol-1 worker's result and results stored before protocol 2 may
  // lack compute_seconds.
  bool require_compute_seconds = true;
  std::string path = "result";  // how errors name the document ("result.test.metrics.macro_f1: ...")
};

// Parses and checks a document; InvalidArgument naming the first field at
// fault. Only the document's own shape is checked; what a job kind requires
// of an "ok" result is CheckResultFor's.
Result<JobResult> ParseJobResult(const Json& j, const ResultParseOptions& options = {});
// What a job of this kind must report: a train job's test macro_f1 and
// accuracy, in [0, 1].
Status CheckResultFor(const JobResult& r, JobKind kind, const std::string& path = "result");
Json JobResultToJson(const JobResult& r);
// A split's "metrics" object as numbers by name (per_class, read apart, and
// nulls left out; booleans as 0 or 1): what ParseJobResult reads, for other
// documents that carry a split's metrics (sweeps/result_rows).
Result<std::map<std::string, double>> ReadSplitMetrics(const Json& metrics, const std::string& path);
Json PredictionToJson(const Prediction& p);
Json ResumePositionToJson(const ResumePosition& r);

// Every field of the document avctl reads (docs/PROTOCOL.md and docs/JOBS.md list the same).
struct ResultField {
  const char* path;  // dotted, below "result"
  const char* type;  // "string", "number", "object", "array", "boolean", "integer", "number|null"
  bool required;     // of every "ok" result
  const char* meaning;
};
const std::vector<ResultField>& ResultFields();

}  // namespace avctl
