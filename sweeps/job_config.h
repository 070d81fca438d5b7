// The configuration of one training job: which model (a variant preset plus
// overrides), how it is trained, on which data partition, with which seed,
// on which device. Parsed from JSON with errors that name the JSON path;
// unknown keys are errors, so a typo never silently runs the default.
// Torch-free: the coordinator and avctl validate jobs with the same code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

// The settings with a fixed set of values; their JSON names are in the
// field tables of job_config.cc (EnumName gives them).
enum class Pooling { kLast, kMean };                   // "last" real frame, or masked "mean"
enum class Head { kMlp, kLadder };                     // "mlp", "ladder"
enum class Targets { kHard, kSoft };                   // "hard", "soft"
enum class VisualAblation { kClip, kFrame };           // "clip", "frame"
enum class CrossTopdown { kTarget, kSource };          // "target", "source"
enum class Lateral { kOther, kSame };                  // "other", "same"
enum class LadderTop { kPosterior, kLogits };          // "posterior", "logits"
enum class Layer0Target { kNormalized, kRaw };         // "normalized", "raw"
enum class SelectBy { kDevLoss, kDevMacroF1 };         // "dev_loss", "dev_macro_f1"
enum class ClassWeights { kNone, kBalanced };          // "none", "balanced"
enum class Modalities { kAudioVisual, kAudio };        // "audiovisual", "audio"

const char* EnumName(Pooling v);
const char* EnumName(Head v);
const char* EnumName(Targets v);
const char* EnumName(VisualAblation v);
const char* EnumName(CrossTopdown v);
const char* EnumName(Lateral v);
const char* EnumName(LadderTop v);
const char* EnumName(Layer0Target v);
const char* EnumName(SelectBy v);
const char* EnumName(ClassWeights v);
const char* EnumName(Modalities v);

struct ModelConfig {
  // The inputs: audio and video, or audio alone (an audio-only store such as
  // MSP-Podcast's; then only the audio auxiliary branch exists: no fusion,
  // no video, no modality dropout or visual ablation).
  Modalities modalities = Modalities::kAudioVisual;
  // Backbone (AuxFormer defaults).
  int d_model = 0;              // 0: the audio dimension (130 for ComParE); modalities of another dim are projected
  int heads = 10;
  int cross_layers = 5;         // layers of each cross-modal encoder
  int self_layers = 5;          // layers of every self-attention stack
  double attn_dropout = 0.1;    // in self-attention stacks; cross-modal encoders use 0
  double relu_dropout = 0.1;
  double res_dropout = 0.1;
  double embed_dropout = 0.25;
  double out_dropout = 0.2;
  Pooling pooling = Pooling::kLast;
  bool fusion = true;            // cross-modal fusion network and the AV head
  bool auxiliary = true;         // per-modality self-attention networks and their heads
  int aux_repeats = 3;           // AuxFormer applies each auxiliary encoder 3 times with shared weights
  bool share_aux_head = true;    // AuxFormer shares the auxiliary head between modalities
  bool gated_residual = true;    // AuxFormer's learned residual gate in the stacks after cross-modal attention
  bool self_positions = false;   // sinusoidal positions also in the self-attention stacks (MulT: in every encoder)
  bool future_mask = true;       // attn_mask of AuxFormer's and MulT's code (default on): query i sees keys j <= i + |S - T|
  Head head = Head::kMlp;        // kMlp: AuxFormer's residual heads; kLadder: ladder encoders
  Targets targets = Targets::kHard;  // cross-entropy on hard labels or on the store's soft labels
  double audio_dropout_p = 0.2;  // modality dropout per batch in training
  double visual_dropout_p = 0.2;
  double visual_ablation_p = 0.0;        // Parthasarathy & Sundaram: random ablation of the visual input
  VisualAblation visual_ablation = VisualAblation::kClip;  // at clip or frame level

  // Ladder networks (head = "ladder").
  double noise_std = 0.3;
  double lambda = 1.0;                   // weight of L_uns
  std::vector<double> lambda_layers;     // per-layer weights λ(l), layer 0 first; empty: 1 everywhere
  bool ladder_av = true;                 // C_rAV
  bool ladder_cross = true;              // C_rA->V and C_rV->A
  CrossTopdown cross_topdown = CrossTopdown::kTarget;  // top-down signal of a cross ladder from the target or the source modality
  Lateral lateral = Lateral::kOther;     // cross ladders take laterals from the other modality, or the same
  // The decoders' top-down input: batch-normalised "posterior" (softmax of
  // the corrupted encoder's top output, Rasmus et al. 2015, Algorithm 1) or
  // the corrupted "logits" (avctl's first wiring).
  LadderTop ladder_top = LadderTop::kPosterior;
  // Layer 0's cost: "normalized" scores estimate and target after the clean
  // input's batch normalisation, so that shrinking the learned representation
  // cannot lower it (the guard against collapse); "raw" scores them as they are.
  Layer0Target layer0_target = Layer0Target::kNormalized;
};

struct TrainConfig {
  double lr = 7.25e-4;
  int batch_size = 32;
  int epochs = 30;
  double clip_norm = 0.8;
  int plateau_patience = 5;
  double plateau_factor = 0.1;
  SelectBy select_by = SelectBy::kDevLoss;
  // The cross-entropy's class weights: "balanced" weighs class c by
  // n / (K n_c) over the labeled Train clips (inverse frequency, as
  // scikit-learn's "balanced"), for imbalanced corpora; in every loss the
  // trainer computes (training and the development loss).
  ClassWeights class_weights = ClassWeights::kNone;
  int early_stop_patience = 0;         // 0: off
  double labeled_fraction = 1.0;       // share of Train clips that keep their labels (speaker-balanced, seeded)
  bool length_buckets = true;          // batches of similar lengths
  int max_train_batches = 0;           // 0: all (tests and smoke runs cap it)
  bool evaluate = true;                // false: no dev/test evaluation (throughput benchmarks only)
  int prefetch = 2;                    // batches made ahead on a background thread; 0: on the training thread
  bool deterministic = true;           // CUDA: deterministic algorithms (CPU runs always are)
  double checkpoint_minutes = 0;       // resumable checkpoints at most this often (0: after every epoch)
};

struct JobConfig {
  std::string key;                // stable id given by the coordinator (free text for local runs)
  std::string variant = "ladder_av";
  uint64_t seed = 0;
  int partition = 1;
  std::string device = "cpu";     // "cpu" or "cuda:N"
  int threads = 0;                // 0: all cores
  bool bf16 = false;              // bfloat16 autocast (CUDA, or CPU autocast); ladder statistics and costs stay float32
  std::string checkpoint;         // where to save the selected model; empty: none
  std::string checkpoint_dir;     // resumable checkpoints: a folder every worker reaches (the sweep's
                                  // checkpoint_dir; a worker's --checkpoint-dir wins); empty: the worker's own
  ModelConfig model;
  TrainConfig train;
};

// The variants: ladder_av, backbone, mult, ps2020, ladder_no_cross,
// ladder_no_av, ladder_same_modality (audiovisual), backbone_audio and
// ladder_audio (audio only). Overrides in a job apply on top.
const std::vector<std::string>& VariantNames();
Result<JobConfig> VariantPreset(const std::string& variant);

// {"variant": ..., "seed": ..., "partition": ..., "model": {...}, "train": {...}, ...}
Result<JobConfig> JobConfigFromJson(const Json& j, const std::string& source);
Json JobConfigToJson(const JobConfig& c);
// Cross-field checks (ranges, enums, heads dividing d_model is checked when d is known).
Status ValidateJobConfig(const JobConfig& c, const std::string& source);

}  // namespace avctl
