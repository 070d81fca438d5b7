// What the report shows, as plain data: a sweep, its variants, every run
// with its metrics, curves and confusion matrix, the workers and the
// provenance. Loaded from the record by report_loader.h; analysed and
// rendered by pure code (report_analysis.h, report_render.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "sweeps/sequential_look.h"
#include "sweeps/sequential_spec.h"

namespace avctl {

struct ReportComparison {
  std::string variant;
  std::vector<std::string> baselines;
  std::string metric = "macro_f1";
  std::string direction = "greater";
  double min_effect = 0;  // 0: none given
  std::string point;      // the variant's grid point compared; "": every point
};

struct ReportVariant {
  std::string name;
  std::string role;    // proposed, baseline, ablation
  std::string preset;
};

struct ReportEpoch {
  int epoch = 0;
  double train_loss = 0, dev_loss = 0, dev_macro_f1 = 0;
};

// What a result says about the resources its job took.
struct RunResources {
  bool measured = false;          // the result reports them
  std::string device;             // where the job trained ("cpu", "cuda:0")
  double train_clips_per_s = 0;
  double data_wait_share = -1;    // < 0: not reported (results before the prefetch pipeline)
  double peak_rss_mib = 0;
  double peak_device_mib = -1;    // < 0: not measured (CPU)
  bool deterministic = true;
};

struct ReportRun {
  std::string key;
  std::string variant;
  std::string point;       // "" without a parameter space
  uint64_t seed = 0;
  int partition = 1;
  std::string state;       // the job's state
  int attempts = 0;
  std::string reason;      // failure reason, if any
  std::string worker;
  std::string device;
  double seconds = 0;      // the stored attempt's duration
  double started_at = 0, ended_at = 0;
  bool has_result = false;
  std::map<std::string, double> metrics;  // test metrics (macro_f1, micro_f1, accuracy, ...)
  int selected_epoch = 0;
  std::vector<ReportEpoch> epochs;
  std::vector<int64_t> confusion;  // k x k, rows = truth, in the order of class_names
  std::vector<std::map<std::string, double>> per_class;  // test metrics per class (precision, recall, f1, support)
  std::vector<std::string> class_names;  // as the result names them (empty: common/emotions.h's six)
  std::map<std::string, double> params;  // the swept values of this point (numeric ones)
  RunResources resources;
  std::string script, script_sha256;     // a command job's script and its SHA-256 (provenance); "" otherwise
  std::string git_commit;                // the commit of the script's repository; "" when unknown
};

// An attempt that ended without its job's result, or resumed from a checkpoint.
struct ReportRestart {
  std::string job_key;
  int64_t attempt_id = 0;
  std::string worker, state, reason;
  int resumed_epochs = -1, resumed_batches = 0;      // -1: from scratch
  int checkpoint_epochs = -1, checkpoint_batches = 0;  // -1: wrote none
  double seconds = 0, lost_seconds = 0;
};

struct ReportData {
  int64_t sweep_id = 0;
  std::string sweep_name;
  std::string source;
  double alpha = 0.05;
  Json dataset = Json::object();
  std::vector<ReportComparison> comparisons;
  std::vector<ReportVariant> variants;
  std::vector<ReportRun> runs;
  Json workers = Json::array();
  // Provenance gathered from the results.
  std::vector<std::string> code_versions;
  // Results per CPU kernel set: ATen's capability and OpenBLAS's core
  // ("avx2 + OpenBLAS SkylakeX"); CPU results are bit-identical only within one.
  std::map<std::string, int> cpu_kernels;
  Json store = Json::object();  // {"synthetic": bool, "audio_checksum": ..., "visual_checksum": ..., "clips": N}
  double wall_seconds = 0;      // first dispatch to last result
  double gpu_hours = 0;         // attempt time on CUDA workers
  double cpu_hours = 0;         // attempt time on CPU workers
  std::string generated_at;     // ISO time
  std::vector<ReportRestart> restarts;  // attempts that ended without the result, and those that resumed
  std::set<std::string> log_scaled_params;  // swept parameters to plot on a log axis (LogScaledSpace)
  // A group-sequential sweep (its spec's "sequential"): the design, each
  // seed's stage, and the looks the coordinator analysed (in order).
  std::optional<SequentialSweep> sequential;
  std::map<uint64_t, int> seed_stage;
  std::vector<SequentialLook> looks;
};

}  // namespace avctl
