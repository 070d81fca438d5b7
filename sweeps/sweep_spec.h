// Sweep specifications (JSON, see docs/SWEEPS.md) and their expansion into
// jobs: variants x parameter points x seeds x partitions. Expansion is pure
// and deterministic; every job has a stable key, so resubmitting a sweep
// finds the jobs that already ran. Errors name the JSON path at fault
// ("variants[2].overrides.train.lr: expected a number, got \"fast\"").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"
#include "sweeps/job_config.h"
#include "sweeps/sequential_spec.h"
#include "common/protocol.h"

namespace avctl {

// How a dimension's values are given: a list (grid, every value), or a
// distribution sampled `samples` times: {"uniform": [lo, hi]},
// {"log_uniform": [lo, hi]}, {"int": [lo, hi]}, {"choice": [...]}.
enum class SpaceKind { kGrid, kUniform, kLogUniform, kInt, kChoice };
const char* SpaceKindName(SpaceKind k);  // "grid", "uniform", "log_uniform", "int", "choice"

// One dimension of a variant's parameter space, addressed by a dotted path
// into the job JSON ("model.lambda", "train.lr").
struct SpaceDim {
  std::string path;
  SpaceKind kind = SpaceKind::kGrid;
  std::vector<Json> values;   // grid / choice
  double lo = 0, hi = 0;      // uniform / log_uniform / int
};

struct SweepVariant {
  std::string name;                 // unique within the sweep
  JobKind kind = JobKind::kTrain;   // a built-in model (train, or sleep in benchmarks) or a command
  std::string variant;              // preset (sweeps/job_config.h); "command" for command variants
  std::string role = "proposed";    // "proposed", "baseline" or "ablation"
  Json overrides = Json::object();  // {"model": {...}, "train": {...}}; command variants: {"params": {...}}
  Json program = Json::object();    // command variants: the sweep's "program", each field the variant gives replaced
  std::vector<SpaceDim> space;
  int samples = 0;                  // random points drawn (when the space has random dims)
  uint64_t sample_seed = 0;
};

struct Comparison {
  std::string variant;
  std::vector<std::string> baselines;
  std::string metric = "macro_f1";
  std::string direction = "greater";  // one-tailed: variant "greater" (or "less") than each baseline
  double min_effect = 0;  // the smallest true difference worth detecting, in the metric's units; 0: none given
  // A swept variant's grid point this comparison is about (its label in the
  // job keys, e.g. "model.lambda=0.5"); "": every point (compared with the
  // baseline's same point when the baseline is swept too).
  std::string point;
};

struct SweepSpec {
  std::string name;
  Json dataset;                   // {"store": DIR} or {"synth": {...}}; null: none (only command variants)
  Json base = Json::object();     // job fields shared by every job
  std::vector<SweepVariant> variants;
  std::vector<uint64_t> seeds;
  std::vector<int> partitions = {1};
  std::vector<Comparison> comparisons;
  int max_attempts = 3;
  int priority = 0;
  // Every variant's kind unless it says otherwise: kTrain, kCommand (a
  // researcher's program, docs/JOBS.md) or kSleep (benchmarks: the worker
  // sleeps sleep_seconds, trains nothing).
  JobKind kind = JobKind::kTrain;
  Json program = Json::object();  // defaults of every command variant's "program" (command, params, env, ...)
  double sleep_seconds = 0;
  double alpha = 0.05;
  Json resources = Json::object();
  std::string checkpoint_dir;     // every job's resumable checkpoints (a shared file system); empty: per worker
  std::optional<SequentialSweep> sequential;  // interim looks (sweeps/sequential_spec.h); none: one analysis at the end
};

struct ExpandedJob {
  std::string key;      // stable: sweep, variant, point, seed, partition
  JobKind kind = JobKind::kTrain;
  std::string variant;  // the sweep variant's name
  std::string point;    // "model.lambda=0.5,model.noise_std=0.3" or "" without a space
  uint64_t seed = 0;
  int partition = 1;
  int stage = 0;        // a sequential sweep's stage: the first look its pairs count at (0 otherwise)
  Json job;             // the job JSON: avworker's (sweeps/job_config.h) or a command job (sweeps/command_job.h)
};

Result<SweepSpec> ParseSweepSpec(const Json& j, const std::string& source);
// Reads a spec file; a relative "workdir" of a program is resolved against
// the file's folder first (ResolveSpecPaths), so the spec sent on names it
// absolutely.
Result<SweepSpec> ReadSweepSpec(const std::string& path);
Result<Json> ReadSweepSpecJson(const std::string& path);
// Relative program workdirs made absolute against `spec_dir`.
Json ResolveSpecPaths(Json spec, const std::string& spec_dir);

// The most jobs one sweep expands to (a bigger one is refused before expansion).
inline constexpr int64_t kMaxSweepJobs = 1000000;

// Seed-major: seed 0 of every variant and point first, so matched pairs complete early.
Result<std::vector<ExpandedJob>> ExpandSweep(const SweepSpec& spec);
// How many jobs ExpandSweep would make, without making them (a double: a
// grid's product can exceed any integer type).
double CountSweepJobs(const SweepSpec& spec);

// A table of the jobs per variant for `--dry-run` and `avctl sweep expand`.
std::string RenderExpansion(const SweepSpec& spec, const std::vector<ExpandedJob>& jobs);

}  // namespace avctl
