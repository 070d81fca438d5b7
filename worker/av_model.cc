#include "worker/av_model.h"

#include "worker/dropout.h"

namespace avctl {

AvModelImpl::AvModelImpl(const ModelConfig& config, int64_t audio_dim, int64_t visual_dim, int64_t classes)
    : c_(config), d_(config.d_model > 0 ? config.d_model : audio_dim), classes_(classes) {
  // Modalities whose width is not d are projected by a bias-free kernel-1
  // convolution over time, i.e. a bias-free linear map of every frame.
  if (audio_dim != d_) proj_a_ = register_module("proj_a", torch::nn::Linear(torch::nn::LinearOptions(audio_dim, d_).bias(false)));
  const bool video = c_.modalities == Modalities::kAudioVisual;
  if (video && visual_dim != d_) proj_v_ = register_module("proj_v", torch::nn::Linear(torch::nn::LinearOptions(visual_dim, d_).bias(false)));

  EncoderOptions self;
  self.d = d_;
  self.heads = c_.heads;
  self.layers = c_.self_layers;
  self.attn_dropout = c_.attn_dropout;
  self.relu_dropout = c_.relu_dropout;
  self.res_dropout = c_.res_dropout;
  self.embed_dropout = c_.embed_dropout;
  self.future_mask = c_.future_mask;
  self.positions = c_.self_positions;
  EncoderOptions cross = self;
  cross.layers = c_.cross_layers;
  cross.attn_dropout = 0.0;
  cross.positions = true;
  EncoderOptions after_cross = self;
  after_cross.gated_residual = c_.gated_residual;

  const bool ladder = c_.head == Head::kLadder;
  if (c_.fusion) {
    cross_av_ = register_module("cross_av", TransformerEncoder(cross));
    cross_va_ = register_module("cross_va", TransformerEncoder(cross));
    if (c_.self_layers > 0) {
      self_a_ = register_module("self_a", TransformerEncoder(after_cross));
      self_v_ = register_module("self_v", TransformerEncoder(after_cross));
    }
    head_names_.push_back("av");
    if (ladder) {
      lad_av_ = register_module("ladder_av", LadderEncoder(std::vector<int64_t>{2 * d_, 2 * d_, 2 * d_, classes_}));
    } else {
      head_av_ = MakeMlpHead("head_av", {2 * d_, 2 * d_});
    }
  }
  if (c_.auxiliary) {
    aux_a_ = register_module("aux_a", TransformerEncoder(self));
    if (video) aux_v_ = register_module("aux_v", TransformerEncoder(self));
    head_names_.push_back("a");
    if (video) head_names_.push_back("v");
    if (ladder) {
      std::vector<int64_t> widths = {d_, 512, 256, d_, classes_};
      lad_a_ = register_module("ladder_a", LadderEncoder(widths));
      if (video) lad_v_ = register_module("ladder_v", LadderEncoder(widths));
    } else {
      head_a_ = MakeMlpHead(c_.share_aux_head ? "head_aux" : "head_a", {512, 256, d_});
      if (video) head_v_ = c_.share_aux_head ? head_a_ : MakeMlpHead("head_v", {512, 256, d_});
    }
  }
  if (ladder) {
    if (c_.ladder_av && c_.fusion) {
      dec_av_ = register_module("decoder_av", LadderDecoder(std::vector<int64_t>{2 * d_, 2 * d_, 2 * d_, classes_}));
    }
    if (c_.ladder_cross && c_.auxiliary) {
      std::vector<int64_t> widths = {d_, 512, 256, d_, classes_};
      if (video) {
        dec_a2v_ = register_module("decoder_a2v", LadderDecoder(widths));
        dec_v2a_ = register_module("decoder_v2a", LadderDecoder(widths));
      } else {
        dec_a_ = register_module("decoder_a", LadderDecoder(widths));  // audio reconstructs audio
      }
    }
  }
}

AvModelImpl::MlpHead AvModelImpl::MakeMlpHead(const std::string& name, std::vector<int64_t> widths) {
  MlpHead h;
  int64_t in = widths.back();  // residual head: input width equals the last hidden width
  int64_t prev = in;
  for (size_t i = 0; i < widths.size(); ++i) {
    h.layers.push_back(register_module(name + "_fc" + std::to_string(i + 1), torch::nn::Linear(prev, widths[i])));
    prev = widths[i];
  }
  h.out = register_module(name + "_out", torch::nn::Linear(prev, classes_));
  return h;
}

torch::Tensor AvModelImpl::RunMlpHead(MlpHead& head, const torch::Tensor& r) {
  torch::Tensor h = r;
  for (size_t i = 0; i + 1 < head.layers.size(); ++i) {
    h = Dropout(torch::relu(head.layers[i](h)), c_.out_dropout, is_training());
  }
  h = head.layers.back()(h) + r;  // residual
  return head.out(h);
}

torch::Tensor AvModelImpl::Pool(const torch::Tensor& x, const torch::Tensor& pad) const {
  return c_.pooling == Pooling::kMean ? PoolMean(x, pad) : PoolLast(x, pad);
}

double AvModelImpl::LayerWeight(size_t l) const {
  if (c_.lambda_layers.empty()) return 1.0;
  return l < c_.lambda_layers.size() ? c_.lambda_layers[l] : c_.lambda_layers.back();
}

torch::Tensor AvModelImpl::WeightedSum(const std::vector<torch::Tensor>& costs, torch::Tensor* unweighted) const {
  torch::Tensor total = torch::zeros({}, costs[0].options());
  torch::Tensor plain = torch::zeros({}, costs[0].options());
  for (size_t l = 0; l < costs.size(); ++l) {
    total = total + LayerWeight(l) * costs[l];
    plain = plain + costs[l].detach();
  }
  *unweighted = plain;
  return total;
}

ModelOutputs AvModelImpl::forward(const ModelInputs& in) {
  // [B, T, D] -> [T, B, d]
  const bool video = c_.modalities == Modalities::kAudioVisual;
  torch::Tensor a = (proj_a_ ? proj_a_(in.audio) : in.audio).transpose(0, 1);
  torch::Tensor v;  // undefined in an audio-only model, which never reads in.visual
  if (video) v = (proj_v_ ? proj_v_(in.visual) : in.visual).transpose(0, 1);
  const torch::Tensor& ap = in.audio_pad;
  const torch::Tensor& vp = in.visual_pad;

  torch::Tensor r_av, r_a, r_v;
  if (c_.fusion) {
    torch::Tensor h_a = cross_av_(a, ap, v, vp);  // audio attends to video
    torch::Tensor h_v = cross_va_(v, vp, a, ap);  // video attends to audio
    if (self_a_) {
      h_a = self_a_(h_a, ap);
      h_v = self_v_(h_v, vp);
    }
    r_av = torch::cat({Pool(h_a, ap), Pool(h_v, vp)}, 1);
  }
  if (c_.auxiliary) {
    torch::Tensor h_a = a, h_v = v;
    for (int i = 0; i < c_.aux_repeats; ++i) {
      h_a = aux_a_(h_a, ap);
      if (video) h_v = aux_v_(h_v, vp);
    }
    r_a = Pool(h_a, ap);
    if (video) r_v = Pool(h_v, vp);
  }

  ModelOutputs out;
  if (r_av.defined()) out.representations["av"] = r_av;
  if (r_a.defined()) out.representations["a"] = r_a;
  if (r_v.defined()) out.representations["v"] = r_v;
  out.unsupervised = torch::zeros({}, a.options());
  if (c_.head == Head::kMlp) {
    if (c_.fusion) out.train_logits.push_back(RunMlpHead(head_av_, r_av));
    if (c_.auxiliary) {
      out.train_logits.push_back(RunMlpHead(head_a_, r_a));
      if (video) out.train_logits.push_back(RunMlpHead(head_v_, r_v));
    }
    out.eval_logits = out.train_logits;
    return out;
  }

  // Ladder heads: the clean pass predicts; in training the corrupted pass
  // feeds the supervised cost and the decoders.
  LadderPass clean_av, clean_a, clean_v, noisy_av, noisy_a, noisy_v;
  if (c_.fusion) clean_av = lad_av_(r_av, 0.0);
  if (c_.auxiliary) {
    clean_a = lad_a_(r_a, 0.0);
    if (video) clean_v = lad_v_(r_v, 0.0);
  }
  for (const LadderPass* p : {&clean_av, &clean_a, &clean_v}) {
    if (p->logits.defined()) out.eval_logits.push_back(p->logits);
  }
  if (!is_training()) {
    out.train_logits = out.eval_logits;
    return out;
  }
  if (c_.fusion) noisy_av = lad_av_(r_av, c_.noise_std);
  if (c_.auxiliary) {
    noisy_a = lad_a_(r_a, c_.noise_std);
    if (video) noisy_v = lad_v_(r_v, c_.noise_std);
  }
  for (const LadderPass* p : {&noisy_av, &noisy_a, &noisy_v}) {
    if (p->logits.defined()) out.train_logits.push_back(p->logits);
  }

  // The decoders' top-down input: the corrupted top output as a posterior
  // (Rasmus et al.) or as logits.
  auto top = [&](const LadderPass& p) {
    return c_.ladder_top == LadderTop::kPosterior ? torch::softmax(p.logits.to(torch::kFloat32), 1) : p.logits;
  };
  const bool norm0 = c_.layer0_target == Layer0Target::kNormalized;
  torch::Tensor uns = torch::zeros({}, a.options());
  if (dec_av_) {
    torch::Tensor plain;
    uns = uns + WeightedSum(dec_av_(top(noisy_av), noisy_av, clean_av, norm0), &plain);
    out.costs["rAV"] = plain;
  }
  if (dec_a2v_ && !in.audio_dropped && !in.visual_dropped) {
    const bool other = c_.lateral == Lateral::kOther;
    const bool from_target = c_.cross_topdown == CrossTopdown::kTarget;
    // A->V: visual targets; laterals from the audio encoder (or the visual one for the same-modality ablation).
    const LadderPass& lat_v = other ? noisy_a : noisy_v;
    const torch::Tensor top_v = top((from_target || !other) ? noisy_v : noisy_a);
    const LadderPass& lat_a = other ? noisy_v : noisy_a;
    const torch::Tensor top_a = top((from_target || !other) ? noisy_a : noisy_v);
    torch::Tensor a2v, v2a;
    torch::Tensor c_a2v = WeightedSum(dec_a2v_(top_v, lat_v, clean_v, norm0), &a2v);
    torch::Tensor c_v2a = WeightedSum(dec_v2a_(top_a, lat_a, clean_a, norm0), &v2a);
    uns = uns + 0.5 * (c_a2v + c_v2a);
    out.costs["rA->V"] = a2v;
    out.costs["rV->A"] = v2a;
  }
  if (dec_a_) {  // audio only: the audio ladder reconstructs its own clean encoder
    torch::Tensor plain;
    uns = uns + WeightedSum(dec_a_(top(noisy_a), noisy_a, clean_a, norm0), &plain);
    out.costs["rA"] = plain;
  }
  out.unsupervised = c_.lambda * uns;
  return out;
}

}  // namespace avctl
