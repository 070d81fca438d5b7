// The audiovisual model (or, with modalities "audio", its audio branch
// alone): AuxFormer's backbone (fusion network and auxiliary
// networks) with either AuxFormer's residual MLP heads or ladder-network
// heads with cross-modal reconstruction. Every variant of the paper is this
// one class with different switches (sweeps/job_config.h).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "sweeps/job_config.h"
#include "worker/ladder.h"
#include "worker/transformer.h"

namespace avctl {

// CREMA-D's six: the class count when none is given (a store gives its own).
inline constexpr int64_t kDefaultClasses = 6;

struct ModelInputs {
  torch::Tensor audio;       // [B, Ta, Da]
  torch::Tensor audio_pad;   // [B, Ta] true = padding
  torch::Tensor visual;      // [B, Tv, Dv] (not read by an audio-only model)
  torch::Tensor visual_pad;  // [B, Tv]
  bool audio_dropped = false;   // zeroed by modality dropout: skip its reconstruction costs
  bool visual_dropped = false;
};

struct ModelOutputs {
  std::vector<torch::Tensor> train_logits;  // heads scored by the supervised cost (corrupted path of ladders)
  std::vector<torch::Tensor> eval_logits;   // heads averaged for prediction (clean path)
  torch::Tensor unsupervised;               // L_uns (0 when the model has none or in eval)
  std::map<std::string, torch::Tensor> costs;  // "rAV", "rA->V", "rV->A": detached, summed over layers, unweighted
  std::map<std::string, torch::Tensor> representations;  // "av", "a", "v": the pooled inputs of the heads
};

class AvModelImpl : public torch::nn::Module {
 public:
  // `classes`: the width of every head (the store's label schema).
  AvModelImpl(const ModelConfig& config, int64_t audio_dim, int64_t visual_dim, int64_t classes = kDefaultClasses);
  ModelOutputs forward(const ModelInputs& in);

  int64_t d_model() const { return d_; }
  int64_t classes() const { return classes_; }
  // Heads in output order ("av", "a", "v"), those the config has.
  const std::vector<std::string>& head_names() const { return head_names_; }

 private:
  struct MlpHead {
    std::vector<torch::nn::Linear> layers;  // hidden layers, the last one back to the input width
    torch::nn::Linear out{nullptr};
  };
  MlpHead MakeMlpHead(const std::string& name, std::vector<int64_t> widths);
  torch::Tensor RunMlpHead(MlpHead& head, const torch::Tensor& r);
  torch::Tensor Pool(const torch::Tensor& x, const torch::Tensor& pad) const;
  double LayerWeight(size_t l) const;
  // sum_l lambda(l) C(l); *unweighted = sum_l C(l), detached (no device sync).
  torch::Tensor WeightedSum(const std::vector<torch::Tensor>& costs, torch::Tensor* unweighted) const;

  ModelConfig c_;
  int64_t d_;
  int64_t classes_;
  std::vector<std::string> head_names_;
  torch::nn::Linear proj_a_{nullptr}, proj_v_{nullptr};
  TransformerEncoder cross_av_{nullptr}, cross_va_{nullptr}, self_a_{nullptr}, self_v_{nullptr};
  TransformerEncoder aux_a_{nullptr}, aux_v_{nullptr};
  MlpHead head_av_, head_a_, head_v_;
  LadderEncoder lad_av_{nullptr}, lad_a_{nullptr}, lad_v_{nullptr};
  LadderDecoder dec_av_{nullptr}, dec_a2v_{nullptr}, dec_v2a_{nullptr};
  LadderDecoder dec_a_{nullptr};  // audio-only ladder: audio reconstructs audio
};
TORCH_MODULE(AvModel);

}  // namespace avctl
