// Trains and evaluates one job on a feature store: the optimiser, schedule,
// epoch selection and evaluation of the paper's protocol, deterministic for a
// given seed, device kind and thread count. The result holds everything the
// report needs: curves, the selected epoch, dev and test metrics, per-clip
// test predictions, throughput, memory and provenance.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/job_result.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/status.h"
#include "store/feature_store.h"
#include "sweeps/job_config.h"
#include "worker/torch_process.h"
#include "worker/train_sampling.h"

namespace avctl {

struct EpochRecord {
  int epoch = 0;
  double lr = 0;
  double train_loss = 0, train_sup = 0, train_uns = 0;
  std::map<std::string, double> costs;  // mean reconstruction costs per ladder
  double dev_loss = 0, dev_macro_f1 = 0, dev_accuracy = 0;
  double seconds = 0;
  int64_t train_clips = 0;       // clips trained on in this epoch
  double train_seconds = 0;      // the training steps of the epoch, evaluation excluded
  double data_wait_seconds = 0;  // of train_seconds, the training thread waiting for its next batch
  double train_clips_per_s = 0;
};

struct Evaluation {
  double loss = 0;
  ClassificationMetrics metrics;
  std::vector<int64_t> confusion;  // row-major [6 x 6], rows = truth
  std::vector<size_t> clips;       // store indices
  std::vector<int> predictions;
  std::vector<std::vector<float>> probabilities;  // per example, one per class of the store
};

struct TrainResult {
  JobConfig config;
  std::vector<EpochRecord> epochs;
  int selected_epoch = 0;
  Evaluation dev, test;
  double train_clips_per_s = 0;
  double wall_seconds = 0;
  double data_wait_share = 0;          // data_wait_seconds / train_seconds over all epochs
  double peak_rss_mib = 0;
  double peak_device_memory_mib = -1;  // CUDA caching allocator's peak reservation; < 0: not measured (CPU)
  bool deterministic = true;           // reruns bit-identical (CPU: same thread count and cpu_capability)
  std::string device;
  std::string cpu_capability;          // CpuKernelCapability() and BlasCoreName(): CPU runs are bit-identical
  std::string blas_core;               // only between machines where both agree
  int threads = 0;
  int64_t labeled_train_clips = 0, train_clips = 0;

  // Checkpoints (issue 17).
  bool preempted = false;   // stopped on TrainHooks::stop: the last checkpoint holds the run so far
  bool resumed = false;     // began from the checkpoint below instead of from scratch
  std::string resumed_from;             // its file
  int resumed_epochs = 0, resumed_batches = 0;  // its position
  int64_t resumed_attempt = 0;          // the attempt that wrote it
  std::vector<std::string> skipped_checkpoints;  // newer ones refused, each with its reason
  int checkpoints_written = 0;
  double checkpoint_seconds = 0;        // all writes, encoding included
  int64_t checkpoint_bytes = 0;         // the last one's size
  std::string last_checkpoint;          // its file
};

// After every training step. The loss is not in it: reading it would stall
// a GPU every step (it is read once per epoch, in EpochRecord).
struct StepReport {
  int epoch = 0, batch = 0, batches = 0;  // batch counts from 1
  double data_wait_seconds = 0;           // this step's wait for its batch
};
using ProgressFn = std::function<void(const StepReport&)>;

// Called after every epoch with its record (dev figures are 0 without evaluation).
using EpochFn = std::function<void(const EpochRecord&)>;

// Resumable checkpoints of an attempt: after every epoch (at most every
// `every_minutes`), and between two steps when TrainHooks::stop is set.
struct CheckpointPolicy {
  std::string dir;            // empty: none are written or resumed from
  double every_minutes = 0;   // 0: after every epoch
  std::string resume_hint;    // a checkpoint file the coordinator last heard of (may not be reachable here)
  int64_t attempt_id = 0;     // written into each checkpoint
  int keep = 2;               // files kept in `dir` (a fallback should the newest be damaged)
};

struct CheckpointEvent {
  bool resumed = false;       // false: a checkpoint was written
  std::string path;
  int epochs = 0, batches = 0;
  int64_t bytes = 0;
  double seconds = 0;
  int64_t attempt_id = 0;     // resumed: the attempt that wrote it
};
using CheckpointFn = std::function<void(const CheckpointEvent&)>;

struct TrainHooks {
  ProgressFn progress;
  EpochFn on_epoch;
  // Benchmarks: wait for the device before each progress call, so that the
  // calls' times are the steps' times (costs a GPU its queue; off in jobs).
  bool synchronize_steps = false;
  CheckpointPolicy checkpoints;
  CheckpointFn on_checkpoint;
  // Set (from a signal handler, say) to stop at the next batch boundary:
  // the run is checkpointed there and returns with `preempted`.
  const std::atomic<bool>* stop = nullptr;
};

// A NaN or infinite loss ends the job, at the end of the epoch in which it
// happened, with FailedPrecondition naming the epoch and the first bad batch.
//
// The process-wide torch settings (threads; on CUDA the deterministic and
// cuDNN flags) are the caller's: SetUpTorchProcess (worker/torch_process.h)
// before TrainJob, which refuses a job asking for others. TrainJob itself
// reseeds torch's default CPU (and CUDA) generators with job.seed: the
// model's initial weights are drawn from them. One job per process at a time.
Result<TrainResult> TrainJob(const JobConfig& job, const TorchProcess& process, const FeatureStore& store,
                             Logger* log, const TrainHooks& hooks = {});

// The result document (common/job_result.h) of a finished job; `avworker
// train` adds compute_seconds and writes it with JobResultToJson.
JobResult ToJobResult(const TrainResult& r, const FeatureStore& store);
// Where the job began: the result's "resume" field.
ResumePosition ResumeOf(const TrainResult& r);

}  // namespace avctl
