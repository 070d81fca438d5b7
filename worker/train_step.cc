#include "worker/train_step.h"

namespace avctl::training {

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

Result<StepInputs> StepMaker::Make(const std::vector<size_t>& clips) {
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

torch::Tensor ToDevice(const torch::Tensor& t, const Placement& p) {
  return t.defined() ? t.to(p.dev.device, /*non_blocking=*/true) : t;  // no copy when already there (CPU)
}

namespace {

// The visual input on the device, float32 and normalised whatever the host layout.
torch::Tensor VisualOnDevice(const Batch& b, const torch::Tensor& visual_pad, const Placement& p) {
  torch::Tensor v = ToDevice(b.visual, p);
  return p.layout.visual_half ? NormalizeVisual(v, visual_pad, p.visual_mean, p.visual_inv_std) : v;
}

}  // namespace

ModelInputs InputsToDevice(const Batch& b, const Placement& p, bool audio_dropped, bool visual_dropped) {
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

torch::Tensor CrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& soft,
                           bool use_soft, const torch::Tensor& weight, const torch::Tensor& class_weight) {
  auto logp = torch::log_softmax(logits.to(torch::kFloat32), 1);
  // The one-hot rows by comparison (torch::one_hot checks the labels' range
  // by reading them back on CPU, and scatters).
  torch::Tensor onehot = torch::arange(logits.size(1), labels.options()).unsqueeze(0).eq(labels.unsqueeze(1)).to(torch::kFloat32);
  torch::Tensor target = use_soft ? soft : onehot;
  if (class_weight.defined()) target = target * class_weight.unsqueeze(0);
  torch::Tensor per_clip = -(target * logp).sum(1);
  // Hard labels with class weights: the mean over the targets' weights.
  torch::Tensor clip_weight = weight;
  torch::Tensor norm;
  if (class_weight.defined() && !use_soft) {
    const torch::Tensor w = (onehot * class_weight.unsqueeze(0)).sum(1);
    norm = weight.defined() ? (w * weight).sum() : w.sum();
    per_clip = weight.defined() ? per_clip * weight : per_clip;
    return per_clip.sum() / norm.clamp_min(1e-12);
  }
  if (!clip_weight.defined()) return per_clip.mean();
  return (per_clip * clip_weight).sum() / clip_weight.sum().clamp_min(1.0);
}

std::vector<float> BalancedClassWeights(const std::vector<int>& labels, int classes) {
  std::vector<int64_t> n(static_cast<size_t>(std::max(classes, 0)), 0);
  for (int l : labels) {
    if (l >= 0 && l < classes) ++n[static_cast<size_t>(l)];
  }
  std::vector<float> w(n.size(), 0.0f);
  for (size_t c = 0; c < n.size(); ++c) {
    if (n[c] > 0) w[c] = static_cast<float>(static_cast<double>(labels.size()) / (static_cast<double>(classes) * n[c]));
  }
  return w;
}

torch::Tensor MeanLogits(const std::vector<torch::Tensor>& heads) { return torch::stack(heads, 0).mean(0); }

}  // namespace avctl::training
