#include "worker/trainer.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "common/parallel.h"
#include "common/random.h"
#include "worker/device.h"
#include "worker/prefetch_queue.h"
#include "worker/train_resume.h"
#include "worker/train_run.h"
#include "worker/train_sampling.h"
#include "worker/train_step.h"

namespace avctl {

namespace {

using namespace training;  // the trainer's parts: train_step, train_run, train_resume

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
    loss_sum += CrossEntropy(l, ToDevice(b.labels, run.place), ToDevice(b.soft, run.place), run.soft, {},
                             run.class_weight)
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
      std::vector<float> p(static_cast<size_t>(pa.size(1)));
      for (int64_t k = 0; k < pa.size(1); ++k) p[static_cast<size_t>(k)] = pa[j][k];
      e.probabilities.push_back(std::move(p));
    }
  }
  AVCTL_ASSIGN_OR_RETURN(ConfusionMatrix cm, ConfusionFromLabels(truth, e.predictions, static_cast<int>(run.model->classes())));
  e.metrics = ComputeMetrics(cm);
  e.confusion = cm.counts();
  return e;
}

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
    for (const auto& logits : out.train_logits) {
      sup = sup + CrossEntropy(logits, d.labels, d.soft, run.soft, d.weight, run.class_weight);
    }
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
Result<std::unique_ptr<Run>> Prepare(const JobConfig& job, const TorchProcess& process, const FeatureStore& store,
                                     Logger* log, const TrainHooks& hooks, TrainResult* r) {
  AVCTL_RETURN_IF_ERROR(CheckTorchProcess(process, job));
  r->threads = process.threads;
  const OpenedDevice& dev = process.device;
  // The job's own random stream: the model's initial weights are drawn from
  // torch's default generators.
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

  if (!store.has_visual() && job.model.modalities == Modalities::kAudioVisual) {
    return Status::FailedPrecondition(
               fmt::format("variant '{}' needs the visual modality and this store has none (audio only); the "
                           "audio-only variants are backbone_audio and ladder_audio",
                           job.variant))
        .WithFile(store.dir())
        .WithField("model.modalities");
  }
  const int64_t d = job.model.d_model > 0 ? job.model.d_model : store.audio_dim();
  if (d % job.model.heads != 0) {
    return Status::InvalidArgument(fmt::format("{} heads do not divide d_model {}", job.model.heads, d))
        .WithField("model.heads");
  }
  run->place = MakePlacement(dev, run->batches);
  run->model = AvModel(job.model, store.audio_dim(), store.visual_dim(), store.num_classes());
  run->model->to(dev.device);
  AdamSettings adam;
  adam.lr = job.train.lr;
  run->opt = std::make_unique<MultiTensorAdam>(run->model->parameters(), adam);
  run->steps = std::make_unique<StepMaker>(&run->batches, job, store, run->train, labeled, run->place.layout);
  run->soft = job.model.targets == Targets::kSoft;
  if (job.train.class_weights == ClassWeights::kBalanced) {
    std::vector<int> labels;
    for (size_t i = 0; i < run->train.size(); ++i) {
      if (labeled[i]) labels.push_back(store.clip(run->train[i]).label);
    }
    const std::vector<float> w = BalancedClassWeights(labels, store.num_classes());
    run->class_weight = torch::tensor(w, torch::kFloat32).to(dev.device);
    std::string shown;
    for (size_t c = 0; c < w.size(); ++c) shown += fmt::format("{}{} {:.3f}", c ? ", " : "", store.class_names()[c], w[c]);
    log->Info("balanced class weights over {} labeled Train clips: {}", labels.size(), shown);
  }
  return run;
}

bool StopAsked(const TrainHooks& hooks) { return hooks.stop != nullptr && hooks.stop->load(); }

Result<TrainResult> TrainJobOrThrow(const JobConfig& job, const TorchProcess& process, const FeatureStore& store,
                                    Logger* log, const TrainHooks& hooks) {
  const auto wall_start = SteadyClock::now();
  TrainResult r;
  r.config = job;
  AVCTL_ASSIGN_OR_RETURN(std::unique_ptr<Run> run, Prepare(job, process, store, log, hooks, &r));
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

Result<TrainResult> TrainJob(const JobConfig& job, const TorchProcess& process, const FeatureStore& store, Logger* log,
                             const TrainHooks& hooks) {
  // libtorch reports device failures by throwing: out of GPU memory, an op
  // without a deterministic CUDA kernel, a driver error. They fail the job
  // with libtorch's message instead of ending the process.
  try {
    return TrainJobOrThrow(job, process, store, log, hooks);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    if (what.find("deterministic") != std::string::npos) what += " (train.deterministic: false allows it)";
    if (what.find("out of memory") != std::string::npos) {
      what += fmt::format(" (device {}; declare more resources.gpu_memory_mb or pack fewer jobs)", job.device);
    }
    return Status::FailedPrecondition("libtorch: " + what);
  }
}

}  // namespace avctl
