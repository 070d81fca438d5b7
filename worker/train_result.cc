// The result document of a finished built-in training job.
#include <cmath>

#include "common/emotions.h"
#include "common/version.h"
#include "worker/train_checkpoint.h"
#include "worker/trainer.h"

namespace avctl {

namespace {

SplitEvaluation ToSplit(const Evaluation& e, const FeatureStore& store, bool per_clip) {
  SplitEvaluation s;
  if (std::isfinite(e.loss)) s.loss = e.loss;
  const Json metrics = MetricsToJson(e.metrics);
  for (const auto& [name, v] : metrics.items()) {
    if (v.is_number()) s.metrics[name] = v.get<double>();
  }
  for (const ClassMetrics& c : e.metrics.per_class) {
    s.per_class.push_back({{"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1},
                           {"support", static_cast<double>(c.support)}, {"predicted", static_cast<double>(c.predicted)},
                           {"present", c.present ? 1.0 : 0.0}});
  }
  s.confusion = e.confusion;
  if (per_clip) {
    s.predictions.reserve(e.clips.size());
    for (size_t i = 0; i < e.clips.size(); ++i) {
      const ClipRecord& c = store.clip(e.clips[i]);
      s.predictions.push_back({c.id, static_cast<int64_t>(c.label), e.predictions[i],
                               std::vector<double>(e.probabilities[i].begin(), e.probabilities[i].end())});
    }
  }
  return s;
}

}  // namespace

JobResult ToJobResult(const TrainResult& r, const FeatureStore& store) {
  const Manifest& m = store.manifest();
  JobResult j;
  j.class_names = store.class_names();
  j.test = ToSplit(r.test, store, true);
  j.dev = ToSplit(r.dev, store, false);
  j.selected_epoch = r.selected_epoch;
  for (const auto& e : r.epochs) {
    auto row = ParseJobResult({{"status", "failed"}, {"epochs", {EpochRecordToJson(e)}}});
    if (row.ok() && !row->epochs.empty()) j.epochs.push_back(std::move(row->epochs[0]));
  }
  j.resume = ResumeOf(r);
  ResultResources& res = j.resources;
  res.train_clips_per_s = r.train_clips_per_s;
  res.wall_seconds = r.wall_seconds;
  res.data_wait_share = r.data_wait_share;
  res.peak_rss_mib = r.peak_rss_mib;
  if (r.peak_device_memory_mib >= 0) res.peak_device_memory_mib = r.peak_device_memory_mib;
  res.deterministic = r.deterministic;
  res.device = r.device;
  res.cpu_capability = r.cpu_capability;
  res.blas_core = r.blas_core;
  res.threads = r.threads;
  j.code_version = CodeVersion();
  j.config = JobConfigToJson(r.config);
  j.store = {{"dir", store.dir()}, {"synthetic", m.synthetic}, {"audio_checksum", m.audio.checksum},
             {"visual_checksum", m.visual.checksum}, {"clips", m.clips.size()}};
  // How a generic or MSP-Podcast store's labels were read, for the report (common/label_provenance.h).
  if (m.provenance.is_object() && m.provenance.contains("labels")) j.store["labels"] = m.provenance["labels"];
  j.extra = {{"seed", r.config.seed},
             {"train_clips", r.train_clips},
             {"labeled_train_clips", r.labeled_train_clips},
             {"checkpoints", {{"written", r.checkpoints_written}, {"seconds", r.checkpoint_seconds},
                              {"last_bytes", r.checkpoint_bytes}, {"last", r.last_checkpoint}}}};
  return j;
}

ResumePosition ResumeOf(const TrainResult& r) {
  ResumePosition p;
  p.resumed = r.resumed;
  p.skipped = r.skipped_checkpoints;
  if (r.resumed) {
    p.from = r.resumed_from;
    p.epochs = r.resumed_epochs;
    p.batches = r.resumed_batches;
    p.attempt_id = r.resumed_attempt;
  }
  return p;
}

}  // namespace avctl
