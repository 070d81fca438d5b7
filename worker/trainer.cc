#include "worker/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <tuple>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/emotions.h"
#include "common/parallel.h"
#include "common/random.h"
#include "common/version.h"
#include "worker/av_model.h"
#include "worker/device.h"
#include "worker/epoch_schedule.h"
#include "worker/optimizer.h"
#include "worker/prefetch_queue.h"
#include "worker/store_batches.h"
#include "worker/train_checkpoint.h"

namespace avctl {

namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point from, SteadyClock::time_point to) { return std::chrono::duration<double>(to - from).count(); }

// Where batches go and in which form: the host layout, and on the device the
// visual normalisation that BatchLayout::visual_half leaves to it.
struct Placement {
  OpenedDevice dev;
  BatchLayout layout;
  torch::Tensor visual_mean, visual_inv_std;  // on the device; defined with layout.visual_half
};

Placement MakePlacement(const OpenedDevice& dev, const StoreBatches& batches) {
  Placement p;
  p.dev = dev;
  p.layout.pinned = dev.cuda;
  p.layout.visual_half = dev.cuda;
  if (p.layout.visual_half) {
    p.visual_mean = batches.VisualMean().to(dev.device);
    p.visual_inv_std = batches.VisualInvStd().to(dev.device);
  }
  return p;
}

// The host side of one training step: the batch and the step's random
// decisions, made off the training thread.
struct StepInputs {
  Batch batch;
  bool audio_dropped = false, visual_dropped = false;
  torch::Tensor visual_keep;  // random visual ablation: 1 keep, 0 ablate; undefined: none
  torch::Tensor weight;       // 1 for labeled clips, 0 for the others; undefined: all labeled
  RngState modality_after, ablation_after;  // the maker's streams once this step was made (checkpoints)
};

// Makes the training steps' inputs strictly in order from the job's own
// random streams (modality dropout, visual ablation), so that a seed gives
// the same steps whichever thread makes them and however far ahead.
class StepMaker {
 public:
  StepMaker(const StoreBatches* batches, const JobConfig& job, const FeatureStore& store,
            const std::vector<size_t>& train, const std::vector<bool>& labeled, BatchLayout layout)
      : batches_(batches),
        model_(job.model),
        layout_(layout),
        semi_supervised_(job.train.labeled_fraction < 1.0),
        labeled_(store.num_clips(), 1),
        modality_rng_(DeriveSeed(job.seed, "modality-dropout")),
        ablation_rng_(DeriveSeed(job.seed, "visual-ablation")) {
    for (size_t i = 0; i < train.size(); ++i) labeled_[train[i]] = labeled[i] ? 1 : 0;
  }

  Result<StepInputs> Make(const std::vector<size_t>& clips) {
    StepInputs s;
    AVCTL_ASSIGN_OR_RETURN(s.batch, batches_->Make(clips, layout_));
    const auto host = torch::TensorOptions().dtype(torch::kFloat32).pinned_memory(layout_.pinned);
    // Modality dropout (AuxFormer): at most one modality zeroed per batch.
    const double u = modality_rng_.Uniform();
    if (u < model_.audio_dropout_p) {
      s.audio_dropped = true;
    } else if (u < model_.audio_dropout_p + model_.visual_dropout_p) {
      s.visual_dropped = true;
    }
    // Random ablation of the visual input (Parthasarathy & Sundaram), per clip or per frame.
    if (model_.visual_ablation_p > 0 && !s.visual_dropped) {
      const int64_t B = s.batch.visual.size(0), T = s.batch.visual.size(1);
      s.visual_keep = torch::empty(model_.visual_ablation == VisualAblation::kClip ? std::vector<int64_t>{B, 1, 1}
                                                                    : std::vector<int64_t>{B, T, 1}, host);
      float* k = s.visual_keep.data_ptr<float>();
      for (int64_t i = 0; i < s.visual_keep.numel(); ++i) {
        k[i] = ablation_rng_.Uniform() < model_.visual_ablation_p ? 0.f : 1.f;
      }
    }
    if (semi_supervised_) {
      s.weight = torch::empty({static_cast<int64_t>(clips.size())}, host);
      float* w = s.weight.data_ptr<float>();
      for (size_t j = 0; j < clips.size(); ++j) w[j] = labeled_[clips[j]] ? 1.0f : 0.0f;
    }
    s.modality_after = modality_rng_.state();
    s.ablation_after = ablation_rng_.state();
    return s;
  }

  // Only between epochs or before the first Make of one (no prefetch running).
  std::pair<RngState, RngState> state() const { return {modality_rng_.state(), ablation_rng_.state()}; }
  void set_state(const RngState& modality, const RngState& ablation) {
    modality_rng_.set_state(modality);
    ablation_rng_.set_state(ablation);
  }

 private:
  const StoreBatches* batches_;
  ModelConfig model_;
  BatchLayout layout_;
  bool semi_supervised_;
  std::vector<char> labeled_;  // per store clip
  Rng modality_rng_, ablation_rng_;
};

// A step's tensors on the device.
struct DeviceStep {
  ModelInputs in;
  torch::Tensor labels, soft, weight;
  int64_t clips = 0;
};

torch::Tensor ToDevice(const torch::Tensor& t, const Placement& p) {
  return t.defined() ? t.to(p.dev.device, /*non_blocking=*/true) : t;  // no copy when already there (CPU)
}

// The visual input on the device, float32 and normalised whatever the host layout.
torch::Tensor VisualOnDevice(const Batch& b, const torch::Tensor& visual_pad, const Placement& p) {
  torch::Tensor v = ToDevice(b.visual, p);
  return p.layout.visual_half ? NormalizeVisual(v, visual_pad, p.visual_mean, p.visual_inv_std) : v;
}

// The model's inputs on the device; a dropped modality is made there as
// zeros instead of being copied.
ModelInputs InputsToDevice(const Batch& b, const Placement& p, bool audio_dropped = false, bool visual_dropped = false) {
  ModelInputs in;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(p.dev.device);
  in.audio_pad = ToDevice(b.audio_pad, p);
  in.visual_pad = ToDevice(b.visual_pad, p);
  in.audio = audio_dropped ? torch::zeros(b.audio.sizes(), f32) : ToDevice(b.audio, p);
  in.visual = visual_dropped ? torch::zeros(b.visual.sizes(), f32) : VisualOnDevice(b, in.visual_pad, p);
  in.audio_dropped = audio_dropped;
  in.visual_dropped = visual_dropped;
  return in;
}

DeviceStep StepToDevice(const StepInputs& s, const Placement& p) {
  const Batch& b = s.batch;
  DeviceStep d;
  d.in = InputsToDevice(b, p, s.audio_dropped, s.visual_dropped);
  if (s.visual_keep.defined()) d.in.visual = d.in.visual * ToDevice(s.visual_keep, p);
  d.labels = ToDevice(b.labels, p);
  d.soft = ToDevice(b.soft, p);
  d.weight = ToDevice(s.weight, p);
  d.clips = b.labels.size(0);
  return d;
}

// Per-clip cross-entropy, averaged (weighted by `weight` where defined).
// Hard labels are scored as one-hot soft targets: the same values as
// gathering the label's log-probability, with a backward pass that is a
// product instead of a scatter (atomics on CUDA, so not deterministic).
torch::Tensor CrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& soft,
                           bool use_soft, const torch::Tensor& weight) {
  auto logp = torch::log_softmax(logits.to(torch::kFloat32), 1);
  // The one-hot rows by comparison (torch::one_hot checks the labels' range
  // by reading them back on CPU, and scatters).
  torch::Tensor target =
      use_soft ? soft
               : torch::arange(logits.size(1), labels.options()).unsqueeze(0).eq(labels.unsqueeze(1)).to(torch::kFloat32);
  torch::Tensor per_clip = -(target * logp).sum(1);
  if (!weight.defined()) return per_clip.mean();
  return (per_clip * weight).sum() / weight.sum().clamp_min(1.0);
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

// What the job's functions share: the data, the model and its optimiser.
struct Run {
  Run(const JobConfig& j, const FeatureStore& s, Logger* l, const TrainHooks& h, StoreBatches b)
      : job(j), store(s), log(l), hooks(h), batches(std::move(b)) {}

  const JobConfig& job;
  const FeatureStore& store;
  Logger* log;
  const TrainHooks& hooks;
  StoreBatches batches;
  Placement place;
  std::vector<size_t> train, dev, test;
  AvModel model{nullptr};
  std::unique_ptr<MultiTensorAdam> opt;
  std::unique_ptr<StepMaker> steps;
  bool soft = false;
};

// One evaluation pass over `clips` (clean path, no gradients): the loss and
// the logits stay on the device and are read once at the end.
Result<Evaluation> Evaluate(Run& run, const std::vector<size_t>& clips) {
  torch::NoGradGuard no_grad;
  run.model->eval();
  const size_t bs = 64;
  std::vector<std::vector<size_t>> parts;
  for (size_t i = 0; i < clips.size(); i += bs) {
    parts.emplace_back(clips.begin() + i, clips.begin() + std::min(clips.size(), i + bs));
  }
  PrefetchQueue<Batch> queue(parts.size(), run.job.train.prefetch,
                             [&](size_t i) { return run.batches.Make(parts[i], run.place.layout); });
  std::vector<int> truth;
  std::vector<torch::Tensor> logits;
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(run.place.dev.device));
  for (size_t i = 0; i < parts.size(); ++i) {
    AVCTL_ASSIGN_OR_RETURN(Batch b, queue.Next());
    const ModelInputs in = InputsToDevice(b, run.place);
    ModelOutputs out;
    {
      Bf16Autocast autocast(run.place.dev.device, run.job.bf16);
      out = run.model->forward(in);
    }
    torch::Tensor l = MeanLogits(out.eval_logits).to(torch::kFloat32);
    const auto n = static_cast<double>(parts[i].size());
    loss_sum += CrossEntropy(l, ToDevice(b.labels, run.place), ToDevice(b.soft, run.place), run.soft, {})
                    .to(torch::kFloat64) * n;
    logits.push_back(l);
    const int64_t* lab = b.labels.data_ptr<int64_t>();
    truth.insert(truth.end(), lab, lab + b.labels.numel());
  }
  Evaluation e;
  e.clips = clips;
  if (!clips.empty()) {
    torch::Tensor all = torch::cat(logits, 0);
    torch::Tensor probs = torch::softmax(all, 1).cpu().contiguous();
    torch::Tensor pred = all.argmax(1).cpu().contiguous();
    e.loss = loss_sum.item<double>() / static_cast<double>(clips.size());
    auto pa = probs.accessor<float, 2>();
    auto pr = pred.accessor<int64_t, 1>();
    for (int64_t j = 0; j < pred.size(0); ++j) {
      e.predictions.push_back(static_cast<int>(pr[j]));
      std::array<float, 6> p{};
      for (int k = 0; k < 6; ++k) p[k] = pa[j][k];
      e.probabilities.push_back(p);
    }
  }
  AVCTL_ASSIGN_OR_RETURN(ConfusionMatrix cm, ConfusionFromLabels(truth, e.predictions, 6));
  e.metrics = ComputeMetrics(cm);
  e.confusion = cm.counts();
  return e;
}

// Sums over an epoch's steps, kept on the device until the epoch ends.
struct EpochSums {
  explicit EpochSums(const torch::Device& device)
      : loss(torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device))),
        sup(torch::zeros_like(loss)),
        uns(torch::zeros_like(loss)),
        first_bad(torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device))),
        bad_value(torch::zeros_like(loss)) {}

  void Add(int64_t batch, const torch::Tensor& total, const torch::Tensor& supervised,
           const torch::Tensor& unsupervised, const std::map<std::string, torch::Tensor>& step_costs, int64_t clips) {
    torch::NoGradGuard no_grad;
    const auto n = static_cast<double>(clips);
    torch::Tensor t = total.detach().to(torch::kFloat64);
    loss += t * n;
    sup += supervised.detach().to(torch::kFloat64) * n;
    uns += unsupervised.detach().to(torch::kFloat64) * n;
    for (const auto& [name, v] : step_costs) {
      torch::Tensor weighted = v.detach().to(torch::kFloat64) * n;
      auto it = costs.find(name);
      if (it == costs.end()) costs.emplace(name, weighted);
      else it->second += weighted;
    }
    // The first batch (counted from 1) whose loss is not finite, and that loss.
    torch::Tensor bad = t.isfinite().logical_not().logical_and(first_bad == 0);
    first_bad = torch::where(bad, torch::full_like(first_bad, batch), first_bad);
    bad_value = torch::where(bad, t, bad_value);
  }

  torch::Tensor loss, sup, uns;  // float64: sum over steps of value x clips
  std::map<std::string, torch::Tensor> costs;
  torch::Tensor first_bad;  // 0: none
  torch::Tensor bad_value;
};

// An epoch's training so far: empty at its start, or where a stop between
// two steps left it (and a resumed attempt picks it up).
struct EpochProgress {
  explicit EpochProgress(const torch::Device& device) : sums(device) {}
  int batches_done = 0;
  EpochSums sums;
  int64_t clips = 0;
  double wait = 0, train_seconds = 0;
  RngState modality, ablation;  // the step maker's streams after batches_done steps
};

// One epoch of training from `p`'s position. Fills the training half of
// `rec` and returns true; or, when TrainHooks::stop is set between two
// steps, returns false with `p` holding the epoch so far.
Result<bool> TrainEpoch(Run& run, int epoch, EpochProgress* p, EpochRecord* rec) {
  const JobConfig& job = run.job;
  const auto t0 = SteadyClock::now();
  run.model->train();
  auto batches = EpochBatches(run.store, run.train, job.train.batch_size, job.train.length_buckets,
                              DeriveSeed(job.seed, "order", static_cast<uint64_t>(epoch)));
  if (job.train.max_train_batches > 0 && static_cast<int>(batches.size()) > job.train.max_train_batches) {
    batches.resize(static_cast<size_t>(job.train.max_train_batches));
  }
  const auto first = static_cast<size_t>(p->batches_done);
  if (first >= batches.size()) {
    return Status::FailedPrecondition(
        fmt::format("the checkpoint is {} steps into epoch {}, which has {}", first, epoch, batches.size()));
  }
  const std::vector<torch::Tensor> params = run.model->parameters();
  PrefetchQueue<StepInputs> queue(batches.size() - first, job.train.prefetch,
                                  [&](size_t i) { return run.steps->Make(batches[first + i]); });
  EpochSums& sums = p->sums;
  for (size_t bi = first; bi < batches.size(); ++bi) {
    const auto asked = SteadyClock::now();
    AVCTL_ASSIGN_OR_RETURN(StepInputs inputs, queue.Next());
    const double step_wait = Seconds(asked, SteadyClock::now());
    p->wait += step_wait;
    DeviceStep d = StepToDevice(inputs, run.place);
    ModelOutputs out;
    {
      Bf16Autocast autocast(run.place.dev.device, job.bf16);
      out = run.model->forward(d.in);
    }
    torch::Tensor sup = torch::zeros({}, d.in.audio.options());
    for (const auto& logits : out.train_logits) sup = sup + CrossEntropy(logits, d.labels, d.soft, run.soft, d.weight);
    sup = sup / static_cast<double>(out.train_logits.size());
    torch::Tensor loss = sup + out.unsupervised;
    run.opt->ZeroGrad();
    loss.backward();
    ClipGradNorm(params, job.train.clip_norm);
    run.opt->Step();
    sums.Add(static_cast<int64_t>(bi + 1), loss, sup, out.unsupervised, out.costs, d.clips);
    p->clips += d.clips;
    if (run.hooks.progress) {
      if (run.hooks.synchronize_steps) SynchronizeDevice(run.place.dev);
      run.hooks.progress({epoch, static_cast<int>(bi + 1), static_cast<int>(batches.size()), step_wait});
    }
    if (run.hooks.stop != nullptr && run.hooks.stop->load() && bi + 1 < batches.size()) {
      p->batches_done = static_cast<int>(bi + 1);
      p->modality = inputs.modality_after;
      p->ablation = inputs.ablation_after;
      p->train_seconds += Seconds(t0, SteadyClock::now());
      return false;
    }
  }
  // The epoch's one read-back.
  if (const int64_t bad = sums.first_bad.item<int64_t>(); bad > 0) {
    return Status::FailedPrecondition(
        fmt::format("loss is {} at epoch {} batch {}", sums.bad_value.item<double>(), epoch, bad));
  }
  const double n = static_cast<double>(p->clips);
  rec->epoch = epoch;
  rec->lr = run.opt->lr();
  rec->train_loss = sums.loss.item<double>() / n;
  rec->train_sup = sums.sup.item<double>() / n;
  rec->train_uns = sums.uns.item<double>() / n;
  for (const auto& [name, v] : sums.costs) rec->costs[name] = v.item<double>() / n;
  rec->train_clips = p->clips;
  rec->train_seconds = p->train_seconds + Seconds(t0, SteadyClock::now());
  rec->data_wait_seconds = p->wait;
  rec->train_clips_per_s = n / std::max(rec->train_seconds, 1e-9);
  return true;
}

// Everything a run needs before its first epoch.
Result<std::unique_ptr<Run>> Prepare(const JobConfig& job, const FeatureStore& store, Logger* log,
                                     const TrainHooks& hooks, TrainResult* r) {
  r->threads = ResolveThreads(job.threads);
  torch::set_num_threads(r->threads);
  AVCTL_ASSIGN_OR_RETURN(OpenedDevice dev, OpenDevice(job.device, job.train.deterministic));
  torch::manual_seed(job.seed);
  if (dev.cuda) torch::cuda::manual_seed_all(job.seed);
  r->device = dev.device.str();
  r->deterministic = dev.deterministic;
  r->cpu_capability = CpuKernelCapability();
  r->blas_core = BlasCoreName();

  AVCTL_ASSIGN_OR_RETURN(StoreBatches batches, StoreBatches::Create(&store, job.partition));
  auto run = std::make_unique<Run>(job, store, log, hooks, std::move(batches));
  AVCTL_ASSIGN_OR_RETURN(run->train, store.ClipsInSplit(job.partition, Split::kTrain));
  AVCTL_ASSIGN_OR_RETURN(run->dev, store.ClipsInSplit(job.partition, Split::kDevelopment));
  AVCTL_ASSIGN_OR_RETURN(run->test, store.ClipsInSplit(job.partition, Split::kTest));
  if (run->train.size() < 2 || run->dev.empty() || run->test.empty()) {
    return Status::FailedPrecondition(fmt::format("partition {} has {} Train, {} Development and {} Test clips",
                                                  job.partition, run->train.size(), run->dev.size(),
                                                  run->test.size()))
        .WithFile(store.dir());
  }
  const std::vector<bool> labeled = ChooseLabeled(store, run->train, job.train.labeled_fraction, job.seed);
  r->train_clips = static_cast<int64_t>(run->train.size());
  r->labeled_train_clips = std::count(labeled.begin(), labeled.end(), true);

  const int64_t d = job.model.d_model > 0 ? job.model.d_model : store.audio_dim();
  if (d % job.model.heads != 0) {
    return Status::InvalidArgument(fmt::format("{} heads do not divide d_model {}", job.model.heads, d))
        .WithField("model.heads");
  }
  run->place = MakePlacement(dev, run->batches);
  run->model = AvModel(job.model, store.audio_dim(), store.visual_dim());
  run->model->to(dev.device);
  AdamSettings adam;
  adam.lr = job.train.lr;
  run->opt = std::make_unique<MultiTensorAdam>(run->model->parameters(), adam);
  run->steps = std::make_unique<StepMaker>(&run->batches, job, store, run->train, labeled, run->place.layout);
  run->soft = job.model.targets == Targets::kSoft;
  return run;
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

namespace {

// What the epoch loop carries from one epoch to the next (with the model,
// the optimiser and the step maker's streams in Run, and the curves in the
// result).
struct Loop {
  explicit Loop(const JobConfig& job)
      : selector(job.train.select_by == SelectBy::kDevMacroF1, job.train.early_stop_patience),
        plateau(job.train.lr, job.train.plateau_patience, job.train.plateau_factor) {}
  EpochSelector selector;
  PlateauSchedule plateau;
  Snapshot best;
  bool has_best = false;
  double train_seconds = 0, wait_seconds = 0;
  int64_t train_clips_seen = 0;
};

std::string GeneratorState(at::Generator g) {
  std::lock_guard<std::mutex> lock(g.mutex());
  torch::Tensor t = g.get_state().contiguous();
  return std::string(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), static_cast<size_t>(t.numel()));
}

void SetGeneratorState(at::Generator g, const std::string& bytes) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(t);
}

at::Generator CpuGenerator() { return at::globalContext().defaultGenerator(torch::Device(torch::kCPU)); }

TrainState Capture(Run& run, const Loop& loop, const TrainResult& r, const EpochProgress* partial) {
  TrainState s;
  s.job_key = run.job.key;
  s.config = ResumeIdentity(run.job);
  s.code_version = CodeVersion();
  s.attempt_id = run.hooks.checkpoints.attempt_id;
  s.at = {static_cast<int>(r.epochs.size()), partial != nullptr ? partial->batches_done : 0};
  s.params = run.model->parameters();
  s.buffers = run.model->buffers();
  s.adam_steps = run.opt->steps();
  s.exp_avg = run.opt->exp_avg();
  s.exp_avg_sq = run.opt->exp_avg_sq();
  s.param_steps = run.opt->param_steps();
  s.lr = run.opt->lr();
  s.selector = loop.selector.state();
  s.plateau = loop.plateau.state();
  s.has_best = loop.has_best;
  s.best_params = loop.best.params;
  s.best_buffers = loop.best.buffers;
  if (partial != nullptr) {
    s.modality_rng = partial->modality;
    s.ablation_rng = partial->ablation;
    const EpochSums& sums = partial->sums;
    s.partial.sums = {sums.loss, sums.sup, sums.uns, sums.first_bad, sums.bad_value};
    for (const auto& [name, v] : sums.costs) {
      s.partial.cost_names.push_back(name);
      s.partial.sums.push_back(v);
    }
    s.partial.clips = partial->clips;
    s.partial.data_wait_seconds = partial->wait;
    s.partial.train_seconds = partial->train_seconds;
  } else {
    std::tie(s.modality_rng, s.ablation_rng) = run.steps->state();
  }
  s.cpu_generator = GeneratorState(CpuGenerator());
  if (run.place.dev.cuda) s.cuda_generator = GeneratorState(at::globalContext().defaultGenerator(run.place.dev.device));
  s.epochs = r.epochs;
  s.train_seconds = loop.train_seconds;
  s.data_wait_seconds = loop.wait_seconds;
  s.train_clips_seen = loop.train_clips_seen;
  return s;
}

Status CopyInto(const std::vector<torch::Tensor>& into, const std::vector<torch::Tensor>& from, const char* what) {
  if (into.size() != from.size()) {
    return Status::InvalidArgument(fmt::format("the checkpoint holds {} {}, the job's model {}", from.size(), what,
                                               into.size()));
  }
  for (size_t i = 0; i < into.size(); ++i) {
    if (into[i].sizes() != from[i].sizes()) {
      return Status::InvalidArgument(fmt::format("{} {} has shape [{}] in the checkpoint, [{}] in the job's model",
                                                 what, i, fmt::join(from[i].sizes(), ", "),
                                                 fmt::join(into[i].sizes(), ", ")));
    }
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < into.size(); ++i) into[i].copy_(from[i]);
  return Status::OK();
}

std::vector<torch::Tensor> OnDevice(const std::vector<torch::Tensor>& ts, const torch::Device& device) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.to(device));
  return out;
}

// The run continues from `s`: model, optimiser, schedule, selection, every
// random stream, the curves and an epoch's steps so far.
Status Apply(Run& run, Loop& loop, TrainResult* r, EpochProgress* partial, const TrainState& s) {
  const torch::Device device = run.place.dev.device;
  AVCTL_RETURN_IF_ERROR(CopyInto(run.model->parameters(), s.params, "parameters"));
  AVCTL_RETURN_IF_ERROR(CopyInto(run.model->buffers(), s.buffers, "buffers"));
  AVCTL_RETURN_IF_ERROR(run.opt->Restore(s.adam_steps, s.exp_avg, s.exp_avg_sq, s.param_steps));
  run.opt->set_lr(s.lr);
  loop.selector.set_state(s.selector);
  loop.plateau.set_state(s.plateau);
  loop.has_best = s.has_best;
  if (s.has_best) loop.best = {OnDevice(s.best_params, device), OnDevice(s.best_buffers, device)};
  run.steps->set_state(s.modality_rng, s.ablation_rng);
  SetGeneratorState(CpuGenerator(), s.cpu_generator);
  if (run.place.dev.cuda && !s.cuda_generator.empty()) {
    SetGeneratorState(at::globalContext().defaultGenerator(device), s.cuda_generator);
  }
  r->epochs = s.epochs;
  loop.train_seconds = s.train_seconds;
  loop.wait_seconds = s.data_wait_seconds;
  loop.train_clips_seen = s.train_clips_seen;
  if (s.at.batches > 0) {
    partial->batches_done = s.at.batches;
    const std::vector<torch::Tensor> sums = OnDevice(s.partial.sums, device);
    partial->sums.loss = sums[0];
    partial->sums.sup = sums[1];
    partial->sums.uns = sums[2];
    partial->sums.first_bad = sums[3];
    partial->sums.bad_value = sums[4];
    for (size_t i = 0; i < s.partial.cost_names.size(); ++i) partial->sums.costs[s.partial.cost_names[i]] = sums[5 + i];
    partial->clips = s.partial.clips;
    partial->wait = s.partial.data_wait_seconds;
    partial->train_seconds = s.partial.train_seconds;
  }
  return Status::OK();
}

// A checkpoint this attempt may resume from: the furthest one, in the
// policy's folder or at the coordinator's hint, that reads back whole and
// was written by this job and this code. Every newer one refused is listed
// with its reason in the result, and logged.
std::optional<std::pair<std::string, TrainState>> FindResume(const JobConfig& job, const CheckpointPolicy& policy,
                                                             Logger* log, TrainResult* r) {
  std::vector<FoundCheckpoint> candidates;
  if (!policy.dir.empty()) {
    if (auto found = LatestCheckpoint(policy.dir, &r->skipped_checkpoints)) candidates.push_back(std::move(*found));
  }
  if (!policy.resume_hint.empty()) {
    const std::string name = std::filesystem::path(policy.resume_hint).filename().string();
    const bool elsewhere =
        std::filesystem::path(policy.resume_hint).parent_path().lexically_normal() !=
        std::filesystem::path(policy.dir).lexically_normal();
    if (elsewhere) {
      std::error_code ec;
      if (!std::filesystem::exists(policy.resume_hint, ec)) {
        log->Info("the last checkpoint of this job, {}, is not reachable from here", policy.resume_hint);
      } else if (auto c = ReadCheckpoint(policy.resume_hint); !c.ok()) {
        r->skipped_checkpoints.push_back(c.status().ToString());
      } else if (auto at = ParseCheckpointFileName(name)) {
        candidates.push_back({policy.resume_hint, *at, std::move(*c)});
      }
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) { return b.at < a.at; });
  const Json identity = ResumeIdentity(job);
  std::optional<std::pair<std::string, TrainState>> chosen;
  for (auto& c : candidates) {
    auto state = DecodeTrainState(c.checkpoint, c.path);
    std::string refused;
    if (!state.ok()) {
      refused = state.status().ToString();
    } else if (state->code_version != CodeVersion()) {
      refused = fmt::format("{}: written by code version {}, this is {}", c.path, state->code_version, CodeVersion());
    } else if (state->job_key != job.key || state->config != identity) {
      refused = fmt::format("{}: written for another job or other settings (job {})", c.path, state->job_key);
    }
    if (refused.empty()) {
      chosen.emplace(c.path, std::move(*state));
      break;
    }
    r->skipped_checkpoints.push_back(refused);
  }
  for (const auto& reason : r->skipped_checkpoints) log->Warn("checkpoint skipped: {}", reason);
  return chosen;
}

// Writes the run's state as the checkpoint of its position. A checkpoint
// that cannot be written costs resumability, not the run: it is logged.
void WriteState(Run& run, const Loop& loop, TrainResult* r, const EpochProgress* partial) {
  const CheckpointPolicy& policy = run.hooks.checkpoints;
  if (policy.dir.empty()) return;
  const auto t0 = SteadyClock::now();
  const TrainState state = Capture(run, loop, *r, partial);
  const std::string path = (std::filesystem::path(policy.dir) / CheckpointFileName(state.at)).string();
  std::error_code ec;
  std::filesystem::create_directories(policy.dir, ec);
  Status s = ec ? Status::IOError("cannot create the checkpoint folder: " + ec.message()).WithFile(policy.dir)
                : WriteCheckpoint(path, EncodeTrainState(state));
  if (s.ok()) s = PruneCheckpoints(policy.dir, policy.keep);
  if (!s.ok()) {
    run.log->Warn("checkpoint not written: {}", s.ToString());
    return;
  }
  const double seconds = Seconds(t0, SteadyClock::now());
  const auto bytes = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  ++r->checkpoints_written;
  r->checkpoint_seconds += seconds;
  r->checkpoint_bytes = bytes;
  r->last_checkpoint = path;
  run.log->Debug("checkpoint {} ({} bytes, {:.3f} s)", path, bytes, seconds);
  if (run.hooks.on_checkpoint) {
    run.hooks.on_checkpoint({false, path, state.at.epochs, state.at.batches, bytes, seconds, policy.attempt_id});
  }
}

bool StopAsked(const TrainHooks& hooks) { return hooks.stop != nullptr && hooks.stop->load(); }

Result<TrainResult> TrainJobOrThrow(const JobConfig& job, const FeatureStore& store, Logger* log,
                                    const TrainHooks& hooks) {
  const auto wall_start = SteadyClock::now();
  TrainResult r;
  r.config = job;
  AVCTL_ASSIGN_OR_RETURN(std::unique_ptr<Run> run, Prepare(job, store, log, hooks, &r));
  Loop loop(job);
  EpochProgress partial(run->place.dev.device);
  if (auto resume = FindResume(job, hooks.checkpoints, log, &r)) {
    const TrainState& s = resume->second;
    AVCTL_RETURN_IF_ERROR(Apply(*run, loop, &r, &partial, s));
    r.resumed = true;
    r.resumed_from = resume->first;
    r.resumed_epochs = s.at.epochs;
    r.resumed_batches = s.at.batches;
    r.resumed_attempt = s.attempt_id;
    log->Info("resuming from {} ({} epochs{}, written by attempt {})", resume->first, s.at.epochs,
              s.at.batches > 0 ? fmt::format(" and {} steps", s.at.batches) : "", s.attempt_id);
    if (hooks.on_checkpoint) hooks.on_checkpoint({true, resume->first, s.at.epochs, s.at.batches, 0, 0, s.attempt_id});
  }
  auto last_checkpoint = SteadyClock::now();
  const auto finished = [&](int epoch) {
    return epoch >= job.train.epochs || (job.train.evaluate && loop.selector.ShouldStop());
  };
  for (int epoch = static_cast<int>(r.epochs.size()) + 1; !finished(epoch - 1); ++epoch) {
    const auto t0 = SteadyClock::now();
    const double earlier = partial.train_seconds;  // of a resumed epoch, before this attempt
    EpochRecord rec;
    AVCTL_ASSIGN_OR_RETURN(const bool whole, TrainEpoch(*run, epoch, &partial, &rec));
    if (!whole) {  // stopped between two steps
      WriteState(*run, loop, &r, &partial);
      r.preempted = true;
      break;
    }
    partial = EpochProgress(run->place.dev.device);
    loop.train_seconds += rec.train_seconds;
    loop.wait_seconds += rec.data_wait_seconds;
    loop.train_clips_seen += rec.train_clips;
    if (job.train.evaluate) {
      AVCTL_ASSIGN_OR_RETURN(Evaluation dev_eval, Evaluate(*run, run->dev));
      if (!std::isfinite(dev_eval.loss)) {
        return Status::FailedPrecondition(fmt::format("development loss is {} at epoch {}", dev_eval.loss, epoch));
      }
      rec.dev_loss = dev_eval.loss;
      rec.dev_macro_f1 = dev_eval.metrics.macro_f1;
      rec.dev_accuracy = dev_eval.metrics.accuracy;
      rec.seconds = earlier + Seconds(t0, SteadyClock::now());
      log->Debug("epoch {}: train loss {:.4f} (sup {:.4f}, uns {:.4f}), dev loss {:.4f}, dev macro F1 {:.4f}, "
                 "lr {:.2e}", epoch, rec.train_loss, rec.train_sup, rec.train_uns, rec.dev_loss, rec.dev_macro_f1,
                 rec.lr);
      r.epochs.push_back(rec);
      if (hooks.on_epoch) hooks.on_epoch(rec);
      if (loop.selector.Offer(epoch, rec.dev_loss, rec.dev_macro_f1)) {
        loop.best = Save(*run->model);
        loop.has_best = true;
      }
      run->opt->set_lr(loop.plateau.Step(rec.dev_loss));
    } else {  // throughput runs: no selection, no metrics
      rec.seconds = rec.train_seconds;
      r.epochs.push_back(rec);
      if (hooks.on_epoch) hooks.on_epoch(rec);
    }
    if (finished(epoch)) break;
    const bool stop = StopAsked(hooks);
    const double every = hooks.checkpoints.every_minutes * 60.0;
    if (stop || every <= 0 || Seconds(last_checkpoint, SteadyClock::now()) >= every) {
      WriteState(*run, loop, &r, nullptr);
      last_checkpoint = SteadyClock::now();
    }
    if (stop) {
      r.preempted = true;
      break;
    }
  }
  if (!r.preempted) {
    if (job.train.evaluate) {
      r.selected_epoch = loop.selector.best_epoch();
      Restore(*run->model, loop.best);
      AVCTL_ASSIGN_OR_RETURN(r.dev, Evaluate(*run, run->dev));
      AVCTL_ASSIGN_OR_RETURN(r.test, Evaluate(*run, run->test));
    } else {
      r.selected_epoch = static_cast<int>(r.epochs.size());
    }
    if (!job.checkpoint.empty()) {
      try {
        torch::save(run->model, job.checkpoint);
      } catch (const c10::Error& e) {
        return Status::IOError(std::string("cannot save checkpoint: ") + e.what_without_backtrace())
            .WithFile(job.checkpoint);
      }
    }
  }
  r.train_clips_per_s = static_cast<double>(loop.train_clips_seen) / std::max(loop.train_seconds, 1e-9);
  r.data_wait_share = loop.wait_seconds / std::max(loop.train_seconds, 1e-9);
  r.wall_seconds = Seconds(wall_start, SteadyClock::now());
  r.peak_rss_mib = PeakRssMiB();
  r.peak_device_memory_mib = PeakDeviceMemoryMiB(run->place.dev);
  return r;
}

}  // namespace

Result<TrainResult> TrainJob(const JobConfig& job, const FeatureStore& store, Logger* log, const TrainHooks& hooks) {
  // libtorch reports device failures by throwing: out of GPU memory, an op
  // without a deterministic CUDA kernel, a driver error. They fail the job
  // with libtorch's message instead of ending the process.
  try {
    return TrainJobOrThrow(job, store, log, hooks);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    if (what.find("deterministic") != std::string::npos) what += " (train.deterministic: false allows it)";
    if (what.find("out of memory") != std::string::npos) {
      what += fmt::format(" (device {}; declare more resources.gpu_memory_mb or pack fewer jobs)", job.device);
    }
    return Status::FailedPrecondition("libtorch: " + what);
  }
}

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
  for (const EmotionInfo& e : AllEmotions()) j.class_names.emplace_back(e.name);
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
