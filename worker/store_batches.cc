#include "worker/store_batches.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "common/float16.h"

namespace avctl {

Result<StoreBatches> StoreBatches::Create(const FeatureStore* store, int partition) {
  AVCTL_ASSIGN_OR_RETURN(NormStatsView stats, store->norm_stats(partition));
  return StoreBatches(store, stats);
}

Result<Batch> StoreBatches::Make(const std::vector<size_t>& clips, const BatchLayout& layout) const {
  if (clips.empty()) return Status::InvalidArgument("empty batch");
  const int64_t B = static_cast<int64_t>(clips.size());
  const int64_t da = store_->audio_dim(), dv = store_->visual_dim();
  int64_t ta = 0, tv = 0;
  for (size_t i : clips) {
    if (i >= store_->num_clips()) {
      return Status::InvalidArgument(fmt::format("clip index {} outside the store's {} clips", i, store_->num_clips()));
    }
    ta = std::max(ta, store_->clip(i).audio_frames);
    tv = std::max(tv, store_->clip(i).visual_frames);
  }

  const auto host = torch::TensorOptions().pinned_memory(layout.pinned);
  Batch b;
  b.audio = torch::zeros({B, ta, da}, host.dtype(torch::kFloat32));
  b.visual = torch::zeros({B, tv, dv}, host.dtype(layout.visual_half ? torch::kFloat16 : torch::kFloat32));
  b.audio_pad = torch::ones({B, ta}, host.dtype(torch::kBool));
  b.visual_pad = torch::ones({B, tv}, host.dtype(torch::kBool));
  b.audio_len = torch::empty({B}, host.dtype(torch::kInt64));
  b.visual_len = torch::empty({B}, host.dtype(torch::kInt64));
  b.labels = torch::empty({B}, host.dtype(torch::kInt64));
  const int64_t K = store_->num_classes();
  b.soft = torch::empty({B, K}, host.dtype(torch::kFloat32));

  std::vector<float> inv_a(da), inv_v(dv);
  for (int64_t d = 0; d < da; ++d) inv_a[d] = 1.0f / stats_.audio_std[d];
  for (int64_t d = 0; d < dv; ++d) inv_v[d] = 1.0f / stats_.visual_std[d];

  float* audio = b.audio.data_ptr<float>();
  float* visual = layout.visual_half ? nullptr : b.visual.data_ptr<float>();
  auto* visual_half = layout.visual_half ? static_cast<uint16_t*>(b.visual.data_ptr()) : nullptr;
  bool* apad = b.audio_pad.data_ptr<bool>();
  bool* vpad = b.visual_pad.data_ptr<bool>();
  int64_t* alen = b.audio_len.data_ptr<int64_t>();
  int64_t* vlen = b.visual_len.data_ptr<int64_t>();
  int64_t* labels = b.labels.data_ptr<int64_t>();
  float* soft = b.soft.data_ptr<float>();
  for (int64_t j = 0; j < B; ++j) {
    const ClipRecord& c = store_->clip(clips[j]);
    const float* src_a = store_->audio(clips[j]);
    float* dst_a = audio + j * ta * da;
    for (int64_t t = 0; t < c.audio_frames; ++t) {
      for (int64_t d = 0; d < da; ++d) {
        dst_a[t * da + d] = (src_a[t * da + d] - stats_.audio_mean[d]) * inv_a[d];
      }
      apad[j * ta + t] = false;
    }
    if (dv == 0) {
      // an audio-only store: empty visual tensors, never read by the model
    } else if (layout.visual_half) {
      std::memcpy(visual_half + j * tv * dv, store_->visual(clips[j]),
                  static_cast<size_t>(c.visual_frames * dv) * sizeof(uint16_t));
    } else {
      float* dst_v = visual + j * tv * dv;
      HalvesToFloats(store_->visual(clips[j]), dst_v, static_cast<size_t>(c.visual_frames * dv));
      for (int64_t t = 0; t < c.visual_frames; ++t) {
        for (int64_t d = 0; d < dv; ++d) {
          dst_v[t * dv + d] = (dst_v[t * dv + d] - stats_.visual_mean[d]) * inv_v[d];
        }
      }
    }
    for (int64_t t = 0; t < c.visual_frames; ++t) vpad[j * tv + t] = false;
    alen[j] = c.audio_frames;
    vlen[j] = c.visual_frames;
    labels[j] = c.label;
    for (int64_t k = 0; k < K; ++k) soft[j * K + k] = c.soft[static_cast<size_t>(k)];
  }
  return b;
}

torch::Tensor StoreBatches::VisualMean() const {
  return torch::from_blob(const_cast<float*>(stats_.visual_mean), {store_->visual_dim()}, torch::kFloat32).clone();
}

torch::Tensor StoreBatches::VisualInvStd() const {
  const int64_t dv = store_->visual_dim();
  torch::Tensor inv = torch::empty({dv}, torch::kFloat32);
  float* out = inv.data_ptr<float>();
  for (int64_t d = 0; d < dv; ++d) out[d] = 1.0f / stats_.visual_std[d];  // as Make computes it
  return inv;
}

torch::Tensor NormalizeVisual(const torch::Tensor& visual_half, const torch::Tensor& visual_pad,
                              const torch::Tensor& mean, const torch::Tensor& inv_std) {
  torch::Tensor v = visual_half.to(torch::kFloat32).sub_(mean).mul_(inv_std);
  return v.masked_fill_(visual_pad.unsqueeze(-1), 0.0);
}

}  // namespace avctl
