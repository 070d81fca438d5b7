#include "worker/trainer.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include <ATen/autocast_mode.h>
#include <fmt/format.h>

#include "common/parallel.h"
#include "common/random.h"
#include "common/version.h"
#include "worker/av_model.h"
#include "worker/store_batches.h"

namespace avctl {

namespace {

using Clock = std::chrono::steady_clock;

// bfloat16 autocast on CUDA for the scope of a forward pass (the API was
// renamed in PyTorch 2.4; both spellings are supported).
class Bf16Autocast {
 public:
  explicit Bf16Autocast(bool on) : on_(on) {
    if (!on_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
  }
  ~Bf16Autocast() {
    if (!on_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
    at::autocast::set_enabled(false);
#endif
    at::autocast::clear_cache();
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool on_;
};

double PeakRssMiB() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

torch::Tensor CrossEntropy(const torch::Tensor& logits, const Batch& b, bool soft, const torch::Tensor& weight) {
  auto logp = torch::log_softmax(logits.to(torch::kFloat32), 1);
  torch::Tensor per_clip = soft ? -(b.soft.to(logits.device()) * logp).sum(1)
                                : -logp.gather(1, b.labels.to(logits.device()).unsqueeze(1)).squeeze(1);
  if (!weight.defined()) return per_clip.mean();
  auto n = weight.sum();
  return (per_clip * weight).sum() / n.clamp_min(1.0);
}

torch::Tensor MeanLogits(const std::vector<torch::Tensor>& heads) { return torch::stack(heads, 0).mean(0); }

struct Snapshot {
  std::vector<torch::Tensor> params, buffers;
};

Snapshot Save(torch::nn::Module& m) {
  torch::NoGradGuard g;
  Snapshot s;
  for (auto& p : m.parameters()) s.params.push_back(p.detach().clone());
  for (auto& b : m.buffers()) s.buffers.push_back(b.detach().clone());
  return s;
}

void Restore(torch::nn::Module& m, const Snapshot& s) {
  torch::NoGradGuard g;
  auto params = m.parameters();
  auto buffers = m.buffers();
  for (size_t i = 0; i < params.size(); ++i) params[i].copy_(s.params[i]);
  for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(s.buffers[i]);
}

Result<Evaluation> Evaluate(AvModel& model, const StoreBatches& batches, const std::vector<size_t>& clips,
                            const torch::Device& device, bool soft, bool bf16) {
  torch::NoGradGuard no_grad;
  model->eval();
  Evaluation e;
  std::vector<int> truth;
  double loss_sum = 0;
  const size_t bs = 64;
  for (size_t i = 0; i < clips.size(); i += bs) {
    std::vector<size_t> idx(clips.begin() + i, clips.begin() + std::min(clips.size(), i + bs));
    AVCTL_ASSIGN_OR_RETURN(Batch b, batches.Make(idx));
    ModelInputs in{b.audio.to(device), b.audio_pad.to(device), b.visual.to(device), b.visual_pad.to(device)};
    ModelOutputs out;
    {
      Bf16Autocast autocast(bf16);
      out = model->forward(in);
    }
    torch::Tensor logits = MeanLogits(out.eval_logits).to(torch::kFloat32);
    loss_sum += CrossEntropy(logits, b, soft, {}).item<double>() * static_cast<double>(idx.size());
    torch::Tensor probs = torch::softmax(logits, 1).cpu().contiguous();
    torch::Tensor pred = logits.argmax(1).cpu().contiguous();
    auto pa = probs.accessor<float, 2>();
    auto pr = pred.accessor<int64_t, 1>();
    auto lab = b.labels.accessor<int64_t, 1>();
    for (size_t j = 0; j < idx.size(); ++j) {
      e.clips.push_back(idx[j]);
      e.predictions.push_back(static_cast<int>(pr[static_cast<int64_t>(j)]));
      truth.push_back(static_cast<int>(lab[static_cast<int64_t>(j)]));
      std::array<float, 6> p{};
      for (int k = 0; k < 6; ++k) p[k] = pa[static_cast<int64_t>(j)][k];
      e.probabilities.push_back(p);
    }
  }
  e.loss = clips.empty() ? 0 : loss_sum / static_cast<double>(clips.size());
  AVCTL_ASSIGN_OR_RETURN(ConfusionMatrix cm, ConfusionFromLabels(truth, e.predictions, 6));
  e.metrics = ComputeMetrics(cm);
  e.confusion = cm.counts();
  return e;
}

}  // namespace

std::vector<bool> ChooseLabeled(const FeatureStore& store, const std::vector<size_t>& train, double fraction,
                                uint64_t seed) {
  std::vector<bool> labeled(train.size(), fraction >= 1.0);
  if (fraction >= 1.0) return labeled;
  std::map<int, std::vector<size_t>> by_actor;  // actor -> positions in `train`
  for (size_t i = 0; i < train.size(); ++i) by_actor[store.clip(train[i]).actor].push_back(i);
  for (auto& [actor, pos] : by_actor) {
    Rng rng(DeriveSeed(seed, "labeled", static_cast<uint64_t>(actor)));
    for (size_t i = pos.size(); i > 1; --i) std::swap(pos[i - 1], pos[rng.Below(i)]);
    size_t keep = std::max<size_t>(1, static_cast<size_t>(std::llround(fraction * static_cast<double>(pos.size()))));
    for (size_t i = 0; i < keep && i < pos.size(); ++i) labeled[pos[i]] = true;
  }
  return labeled;
}

std::vector<std::vector<size_t>> EpochBatches(const FeatureStore& store, const std::vector<size_t>& train,
                                              int batch_size, bool buckets, uint64_t seed) {
  Rng rng(seed);
  std::vector<size_t> order = train;
  if (buckets) {
    // Length with up to 10% jitter so that buckets differ between epochs.
    std::vector<std::pair<double, size_t>> keyed;
    for (size_t i : order) keyed.emplace_back(store.clip(i).audio_frames * rng.Uniform(0.95, 1.05), i);
    std::sort(keyed.begin(), keyed.end());
    for (size_t i = 0; i < keyed.size(); ++i) order[i] = keyed[i].second;
  } else {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
  }
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < order.size(); i += static_cast<size_t>(batch_size)) {
    batches.emplace_back(order.begin() + i, order.begin() + std::min(order.size(), i + batch_size));
  }
  // A last batch of one clip has no batch statistics: merge it into the previous one.
  if (batches.size() > 1 && batches.back().size() < 2) {
    batches[batches.size() - 2].insert(batches[batches.size() - 2].end(), batches.back().begin(), batches.back().end());
    batches.pop_back();
  }
  for (size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[rng.Below(i)]);
  return batches;
}

Result<TrainResult> TrainJob(const JobConfig& job, const FeatureStore& store, Logger* log, const ProgressFn& progress,
                             const EpochFn& on_epoch) {
  const auto wall_start = Clock::now();
  TrainResult r;
  r.config = job;
  r.threads = ResolveThreads(job.threads);
  torch::set_num_threads(r.threads);
  torch::manual_seed(job.seed);
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(job.seed);

  torch::Device device(torch::kCPU);
  if (job.device != "cpu") {
    if (!torch::cuda::is_available()) {
      return Status::FailedPrecondition(fmt::format("device {} asked for, but this libtorch sees no CUDA device", job.device))
          .WithField("device");
    }
    device = torch::Device(job.device);
  }
  r.device = device.str();

  AVCTL_ASSIGN_OR_RETURN(StoreBatches batches, StoreBatches::Create(&store, job.partition));
  AVCTL_ASSIGN_OR_RETURN(std::vector<size_t> train, store.ClipsInSplit(job.partition, Split::kTrain));
  AVCTL_ASSIGN_OR_RETURN(std::vector<size_t> dev, store.ClipsInSplit(job.partition, Split::kDevelopment));
  AVCTL_ASSIGN_OR_RETURN(std::vector<size_t> test, store.ClipsInSplit(job.partition, Split::kTest));
  if (train.size() < 2 || dev.empty() || test.empty()) {
    return Status::FailedPrecondition(fmt::format("partition {} has {} Train, {} Development and {} Test clips",
                                                  job.partition, train.size(), dev.size(), test.size()))
        .WithFile(store.dir());
  }
  const std::vector<bool> labeled = ChooseLabeled(store, train, job.train.labeled_fraction, job.seed);
  std::map<size_t, bool> is_labeled;
  for (size_t i = 0; i < train.size(); ++i) is_labeled[train[i]] = labeled[i];
  r.train_clips = static_cast<int64_t>(train.size());
  r.labeled_train_clips = std::count(labeled.begin(), labeled.end(), true);

  const int64_t d = job.model.d_model > 0 ? job.model.d_model : store.audio_dim();
  if (d % job.model.heads != 0) {
    return Status::InvalidArgument(fmt::format("{} heads do not divide d_model {}", job.model.heads, d)).WithField("model.heads");
  }
  AvModel model(job.model, store.audio_dim(), store.visual_dim());
  model->to(device);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(job.train.lr));
  double lr = job.train.lr;
  const bool soft = job.model.targets == "soft";

  Rng modality_rng(DeriveSeed(job.seed, "modality-dropout"));
  Rng ablation_rng(DeriveSeed(job.seed, "visual-ablation"));
  double best_plateau = std::numeric_limits<double>::infinity();
  int bad_epochs = 0;
  double best_score = std::numeric_limits<double>::infinity();
  int since_best = 0;
  Snapshot best;
  double train_seconds = 0;
  int64_t train_clips_seen = 0;

  for (int epoch = 1; epoch <= job.train.epochs; ++epoch) {
    const auto t0 = Clock::now();
    model->train();
    auto epoch_batches = EpochBatches(store, train, job.train.batch_size, job.train.length_buckets,
                                      DeriveSeed(job.seed, "order", static_cast<uint64_t>(epoch)));
    if (job.train.max_train_batches > 0 && static_cast<int>(epoch_batches.size()) > job.train.max_train_batches) {
      epoch_batches.resize(static_cast<size_t>(job.train.max_train_batches));
    }
    EpochRecord rec;
    rec.epoch = epoch;
    rec.lr = lr;
    int64_t clips = 0;
    std::map<std::string, torch::Tensor> cost_sums;  // on the device until the epoch ends
    for (size_t bi = 0; bi < epoch_batches.size(); ++bi) {
      const auto& idx = epoch_batches[bi];
      AVCTL_ASSIGN_OR_RETURN(Batch b, batches.Make(idx));
      ModelInputs in{b.audio, b.audio_pad, b.visual, b.visual_pad};
      // Modality dropout (AuxFormer): at most one modality zeroed per batch.
      const double u = modality_rng.Uniform();
      if (u < job.model.audio_dropout_p) {
        in.audio = torch::zeros_like(in.audio);
        in.audio_dropped = true;
      } else if (u < job.model.audio_dropout_p + job.model.visual_dropout_p) {
        in.visual = torch::zeros_like(in.visual);
        in.visual_dropped = true;
      }
      // Random ablation of the visual input (Parthasarathy & Sundaram).
      if (job.model.visual_ablation_p > 0 && !in.visual_dropped) {
        const int64_t B = in.visual.size(0), T = in.visual.size(1);
        torch::Tensor keep = torch::ones(job.model.visual_ablation == "clip" ? std::vector<int64_t>{B, 1, 1}
                                                                             : std::vector<int64_t>{B, T, 1});
        auto* k = keep.data_ptr<float>();
        for (int64_t i = 0; i < keep.numel(); ++i) k[i] = ablation_rng.Uniform() < job.model.visual_ablation_p ? 0.f : 1.f;
        in.visual = in.visual * keep;
      }
      in.audio = in.audio.to(device);
      in.audio_pad = in.audio_pad.to(device);
      in.visual = in.visual.to(device);
      in.visual_pad = in.visual_pad.to(device);

      torch::Tensor weight;
      if (job.train.labeled_fraction < 1.0) {
        weight = torch::empty({static_cast<int64_t>(idx.size())});
        for (size_t j = 0; j < idx.size(); ++j) weight[j] = is_labeled[idx[j]] ? 1.0f : 0.0f;
        weight = weight.to(device);
      }
      ModelOutputs out;
      {
        Bf16Autocast autocast(job.bf16);
        out = model->forward(in);
      }
      torch::Tensor sup = torch::zeros({}, in.audio.options());
      for (const auto& logits : out.train_logits) sup = sup + CrossEntropy(logits, b, soft, weight);
      sup = sup / static_cast<double>(out.train_logits.size());
      torch::Tensor loss = sup + out.unsupervised;
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        return Status::FailedPrecondition(fmt::format("loss is {} at epoch {} batch {}", loss_value, epoch, bi + 1));
      }
      opt.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(model->parameters(), job.train.clip_norm);
      opt.step();

      rec.train_loss += loss_value * static_cast<double>(idx.size());
      rec.train_sup += sup.item<double>() * static_cast<double>(idx.size());
      rec.train_uns += out.unsupervised.item<double>() * static_cast<double>(idx.size());
      for (const auto& [name, v] : out.costs) {
        auto it = cost_sums.find(name);
        torch::Tensor weighted = v * static_cast<double>(idx.size());
        if (it == cost_sums.end()) cost_sums.emplace(name, weighted);
        else it->second = it->second + weighted;
      }
      clips += static_cast<int64_t>(idx.size());
      if (progress) progress(epoch, static_cast<int>(bi + 1), static_cast<int>(epoch_batches.size()), rec.train_loss / clips);
    }
    const double train_s = std::chrono::duration<double>(Clock::now() - t0).count();
    train_seconds += train_s;
    train_clips_seen += clips;
    rec.train_loss /= clips;
    rec.train_sup /= clips;
    rec.train_uns /= clips;
    for (const auto& [name, v] : cost_sums) rec.costs[name] = v.item<double>() / clips;
    rec.train_clips_per_s = clips / std::max(train_s, 1e-9);

    if (!job.train.evaluate) {  // throughput runs: no selection, no metrics
      rec.seconds = train_s;
      r.epochs.push_back(rec);
      if (on_epoch) on_epoch(rec);
      r.selected_epoch = epoch;
      continue;
    }
    AVCTL_ASSIGN_OR_RETURN(Evaluation dev_eval, Evaluate(model, batches, dev, device, soft, job.bf16));
    if (!std::isfinite(dev_eval.loss)) {
      return Status::FailedPrecondition(fmt::format("development loss is {} at epoch {}", dev_eval.loss, epoch));
    }
    rec.dev_loss = dev_eval.loss;
    rec.dev_macro_f1 = dev_eval.metrics.macro_f1;
    rec.dev_accuracy = dev_eval.metrics.accuracy;
    rec.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    log->Debug("epoch {}: train loss {:.4f} (sup {:.4f}, uns {:.4f}), dev loss {:.4f}, dev macro F1 {:.4f}, lr {:.2e}",
               epoch, rec.train_loss, rec.train_sup, rec.train_uns, rec.dev_loss, rec.dev_macro_f1, lr);
    r.epochs.push_back(rec);
    if (on_epoch) on_epoch(rec);

    // Epoch selection.
    const double score = job.train.select_by == "dev_macro_f1" ? -rec.dev_macro_f1 : rec.dev_loss;
    if (score < best_score) {
      best_score = score;
      r.selected_epoch = epoch;
      best = Save(*model);
      since_best = 0;
    } else {
      ++since_best;
    }
    // Reduce-on-plateau on the development loss (relative threshold 1e-4, as PyTorch's default).
    if (rec.dev_loss < best_plateau * (1 - 1e-4)) {
      best_plateau = rec.dev_loss;
      bad_epochs = 0;
    } else if (++bad_epochs > job.train.plateau_patience) {
      lr *= job.train.plateau_factor;
      for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      bad_epochs = 0;
    }
    if (job.train.early_stop_patience > 0 && since_best > job.train.early_stop_patience) break;
  }

  if (job.train.evaluate) {
    Restore(*model, best);
    AVCTL_ASSIGN_OR_RETURN(r.dev, Evaluate(model, batches, dev, device, soft, job.bf16));
    AVCTL_ASSIGN_OR_RETURN(r.test, Evaluate(model, batches, test, device, soft, job.bf16));
  }
  if (!job.checkpoint.empty()) {
    try {
      torch::save(model, job.checkpoint);
    } catch (const c10::Error& e) {
      return Status::IOError(std::string("cannot save checkpoint: ") + e.what_without_backtrace()).WithFile(job.checkpoint);
    }
  }
  r.train_clips_per_s = train_clips_seen / std::max(train_seconds, 1e-9);
  r.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start).count();
  r.peak_rss_mib = PeakRssMiB();
  return r;
}

namespace {

Json EvaluationToJson(const Evaluation& e, const FeatureStore& store, bool per_clip) {
  Json j = {{"loss", e.loss}, {"metrics", MetricsToJson(e.metrics)}, {"confusion", e.confusion}};
  if (per_clip) {
    Json clips = Json::array();
    for (size_t i = 0; i < e.clips.size(); ++i) {
      const ClipRecord& c = store.clip(e.clips[i]);
      clips.push_back({{"id", c.id}, {"label", c.label}, {"pred", e.predictions[i]}, {"probs", e.probabilities[i]}});
    }
    j["predictions"] = clips;
  }
  return j;
}

}  // namespace

Json TrainResultToJson(const TrainResult& r, const FeatureStore& store) {
  Json epochs = Json::array();
  for (const auto& e : r.epochs) {
    epochs.push_back({{"epoch", e.epoch}, {"lr", e.lr}, {"train_loss", e.train_loss}, {"train_sup", e.train_sup},
                      {"train_uns", e.train_uns}, {"costs", e.costs}, {"dev_loss", e.dev_loss},
                      {"dev_macro_f1", e.dev_macro_f1}, {"dev_accuracy", e.dev_accuracy}, {"seconds", e.seconds},
                      {"train_clips_per_s", e.train_clips_per_s}});
  }
  const Manifest& m = store.manifest();
  return {{"status", "ok"},
          {"config", JobConfigToJson(r.config)},
          {"seed", r.config.seed},
          {"epochs", epochs},
          {"selected_epoch", r.selected_epoch},
          {"dev", EvaluationToJson(r.dev, store, false)},
          {"test", EvaluationToJson(r.test, store, true)},
          {"train_clips", r.train_clips},
          {"labeled_train_clips", r.labeled_train_clips},
          {"train_clips_per_s", r.train_clips_per_s},
          {"wall_seconds", r.wall_seconds},
          {"peak_rss_mib", r.peak_rss_mib},
          {"device", r.device},
          {"threads", r.threads},
          {"code_version", CodeVersion()},
          {"store",
           {{"dir", store.dir()}, {"synthetic", m.synthetic}, {"audio_checksum", m.audio.checksum},
            {"visual_checksum", m.visual.checksum}, {"clips", m.clips.size()}}}};
}

}  // namespace avctl
