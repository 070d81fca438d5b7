#include "sweeps/job_config.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <map>

#include <fmt/format.h>

#include "common/protocol.h"

namespace avctl {

const std::vector<std::string>& VariantNames() {
  static const std::vector<std::string> kNames = {"ladder_av",       "backbone",     "mult",
                                                  "ps2020",          "ladder_no_cross", "ladder_no_av",
                                                  "ladder_same_modality", "backbone_audio", "ladder_audio"};
  return kNames;
}

Result<JobConfig> VariantPreset(const std::string& variant) {
  JobConfig c;
  c.variant = variant;
  ModelConfig& m = c.model;
  TrainConfig& t = c.train;
  if (variant == "backbone") {
    m.head = Head::kMlp;  // AuxFormer: the same network without L_uns
  } else if (variant == "ladder_av" || variant == "ladder_no_cross" || variant == "ladder_no_av" ||
             variant == "ladder_same_modality") {
    m.head = Head::kLadder;
    m.ladder_cross = variant != "ladder_no_cross";
    m.ladder_av = variant != "ladder_no_av";
    if (variant == "ladder_same_modality") m.lateral = Lateral::kSame;
  } else if (variant == "backbone_audio" || variant == "ladder_audio") {
    // The audio branch of backbone / ladder_av alone, at their settings
    // (docs/MODELS.md): AuxFormer's audio auxiliary network, applied 3 times,
    // and its head; for ladder_audio the audio ladder with a decoder that
    // reconstructs its own encoder (laterals and top-down from audio: with
    // no video, the cross-modal decoder becomes a standard ladder network).
    m.modalities = Modalities::kAudio;
    m.fusion = false;
    m.audio_dropout_p = 0.0;
    m.visual_dropout_p = 0.0;
    if (variant == "ladder_audio") {
      m.head = Head::kLadder;
      m.ladder_av = false;
      m.lateral = Lateral::kSame;
    }
  } else if (variant == "mult") {
    // Tsai et al. (ACL 2019), two-modality form, defaults of its public code.
    m.d_model = 30;
    m.heads = 5;
    m.cross_layers = 5;            // nlevels = 5
    m.self_layers = 5;             // the memory stacks: layers = max(nlevels, 3) in get_network
    m.self_positions = true;       // every TransformerEncoder of MulT adds sinusoidal positions
    m.auxiliary = false;
    m.gated_residual = false;
    m.audio_dropout_p = 0.0;
    m.visual_dropout_p = 0.0;
    m.attn_dropout = 0.1;
    m.embed_dropout = 0.25;
    m.out_dropout = 0.0;
    t.lr = 1e-3;
    t.batch_size = 24;
    t.epochs = 40;
    t.clip_norm = 0.8;             // --clip 0.8
    t.plateau_patience = 20;       // --when 20: ReduceLROnPlateau(patience=20, factor=0.1)
  } else if (variant == "ps2020") {
    // Parthasarathy & Sundaram (ICMI 2020), our interpretation (docs/MODELS.md):
    // one audio-visual transformer (the backbone's cross-modal fusion network
    // and its AV head, no per-modality heads) trained on its fused prediction,
    // with random frame-level ablation of the visual input, so that the fused
    // model learns to lean on audio when frames are missing. The former
    // wiring (late fusion of two per-modality heads, clip-level ablation) is
    // these overrides: fusion false, auxiliary true, aux_repeats 1,
    // share_aux_head false, visual_ablation "clip".
    m.auxiliary = false;
    m.audio_dropout_p = 0.0;
    m.visual_dropout_p = 0.0;
    m.visual_ablation_p = 0.2;
    m.visual_ablation = VisualAblation::kFrame;
  } else {
    std::string known;
    for (const auto& n : VariantNames()) known += (known.empty() ? "" : ", ") + n;
    return Status::InvalidArgument(fmt::format("unknown variant '{}' (expected one of {})", variant, known))
        .WithField("variant");
  }
  return c;
}

namespace {

// The JSON names of the enum settings, in one place.
template <typename E>
using EnumNames = std::initializer_list<std::pair<E, const char*>>;
constexpr EnumNames<Pooling> kPoolingNames = {{Pooling::kLast, "last"}, {Pooling::kMean, "mean"}};
constexpr EnumNames<Head> kHeadNames = {{Head::kMlp, "mlp"}, {Head::kLadder, "ladder"}};
constexpr EnumNames<Targets> kTargetsNames = {{Targets::kHard, "hard"}, {Targets::kSoft, "soft"}};
constexpr EnumNames<VisualAblation> kVisualAblationNames = {{VisualAblation::kClip, "clip"},
                                                            {VisualAblation::kFrame, "frame"}};
constexpr EnumNames<CrossTopdown> kCrossTopdownNames = {{CrossTopdown::kTarget, "target"},
                                                        {CrossTopdown::kSource, "source"}};
constexpr EnumNames<Lateral> kLateralNames = {{Lateral::kOther, "other"}, {Lateral::kSame, "same"}};
constexpr EnumNames<LadderTop> kLadderTopNames = {{LadderTop::kPosterior, "posterior"}, {LadderTop::kLogits, "logits"}};
constexpr EnumNames<Layer0Target> kLayer0TargetNames = {{Layer0Target::kNormalized, "normalized"},
                                                        {Layer0Target::kRaw, "raw"}};
constexpr EnumNames<SelectBy> kSelectByNames = {{SelectBy::kDevLoss, "dev_loss"}, {SelectBy::kDevMacroF1, "dev_macro_f1"}};
constexpr EnumNames<ClassWeights> kClassWeightsNames = {{ClassWeights::kNone, "none"},
                                                        {ClassWeights::kBalanced, "balanced"}};
constexpr EnumNames<Modalities> kModalitiesNames = {{Modalities::kAudioVisual, "audiovisual"},
                                                    {Modalities::kAudio, "audio"}};

template <typename E>
const char* NameIn(EnumNames<E> names, E v) {
  for (const auto& [value, name] : names) {
    if (value == v) return name;
  }
  return "?";
}

// Every field of a job, declared once: the parser and the writer below both
// walk these tables, so a field cannot be read without being written or
// written under another name. Strings with a fixed set of values list them.
template <typename M, typename F>
void ModelFields(M& m, F&& f) {
  f("modalities", m.modalities, kModalitiesNames);
  f("d_model", m.d_model);
  f("heads", m.heads);
  f("cross_layers", m.cross_layers);
  f("self_layers", m.self_layers);
  f("attn_dropout", m.attn_dropout);
  f("relu_dropout", m.relu_dropout);
  f("res_dropout", m.res_dropout);
  f("embed_dropout", m.embed_dropout);
  f("out_dropout", m.out_dropout);
  f("pooling", m.pooling, kPoolingNames);
  f("fusion", m.fusion);
  f("auxiliary", m.auxiliary);
  f("aux_repeats", m.aux_repeats);
  f("share_aux_head", m.share_aux_head);
  f("gated_residual", m.gated_residual);
  f("head", m.head, kHeadNames);
  f("self_positions", m.self_positions);
  f("future_mask", m.future_mask);
  f("targets", m.targets, kTargetsNames);
  f("audio_dropout_p", m.audio_dropout_p);
  f("visual_dropout_p", m.visual_dropout_p);
  f("visual_ablation_p", m.visual_ablation_p);
  f("visual_ablation", m.visual_ablation, kVisualAblationNames);
  f("noise_std", m.noise_std);
  f("lambda", m.lambda);
  f("lambda_layers", m.lambda_layers);
  f("ladder_av", m.ladder_av);
  f("ladder_cross", m.ladder_cross);
  f("cross_topdown", m.cross_topdown, kCrossTopdownNames);
  f("lateral", m.lateral, kLateralNames);
  f("ladder_top", m.ladder_top, kLadderTopNames);
  f("layer0_target", m.layer0_target, kLayer0TargetNames);
}

template <typename T, typename F>
void TrainFields(T& t, F&& f) {
  f("lr", t.lr);
  f("batch_size", t.batch_size);
  f("epochs", t.epochs);
  f("clip_norm", t.clip_norm);
  f("plateau_patience", t.plateau_patience);
  f("plateau_factor", t.plateau_factor);
  f("select_by", t.select_by, kSelectByNames);
  f("class_weights", t.class_weights, kClassWeightsNames);
  f("early_stop_patience", t.early_stop_patience);
  f("labeled_fraction", t.labeled_fraction);
  f("length_buckets", t.length_buckets);
  f("max_train_batches", t.max_train_batches);
  f("evaluate", t.evaluate);
  f("prefetch", t.prefetch);
  f("deterministic", t.deterministic);
  f("checkpoint_minutes", t.checkpoint_minutes);
}

// The top level but "variant" (it picks the preset, so it is read first)
// and the two sections.
template <typename C, typename F>
void TopFields(C& c, F&& f) {
  f("key", c.key);
  f("seed", c.seed);
  f("partition", c.partition);
  f("device", c.device);
  f("threads", c.threads);
  f("bf16", c.bf16);
  f("checkpoint", c.checkpoint);
  f("checkpoint_dir", c.checkpoint_dir);
}

using Setter = std::function<Status(const Json& value, const std::string& path)>;

Status Expect(const std::string& path, const char* what, const Json& got) {
  return Status::InvalidArgument(fmt::format("{}: expected {}, got {}", path, what, DescribeJson(got))).WithField(path);
}

// Visits a field table and collects a setter per field that checks the JSON
// value's type (and allowed values) before storing it.
class SetterTable {
 public:
  std::map<std::string, Setter> fields;

  // A setter that stores the value when `ok` accepts its JSON type.
  template <typename T, typename Check>
  void Scalar(const char* name, T& out, const char* what, Check ok) {
    fields[name] = [&out, what, ok](const Json& v, const std::string& path) {
      if (!ok(v)) return Expect(path, what, v);
      out = v.get<T>();
      return Status::OK();
    };
  }

  void operator()(const char* name, double& out) {
    Scalar(name, out, "a number", [](const Json& v) { return v.is_number(); });
  }
  void operator()(const char* name, int& out) {
    Scalar(name, out, "an integer", [](const Json& v) { return v.is_number_integer(); });
  }
  void operator()(const char* name, uint64_t& out) {
    Scalar(name, out, "a non-negative integer",
           [](const Json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; });
  }
  void operator()(const char* name, bool& out) {
    Scalar(name, out, "true or false", [](const Json& v) { return v.is_boolean(); });
  }
  void operator()(const char* name, std::string& out) {
    fields[name] = [&out](const Json& v, const std::string& path) {
      if (!v.is_string()) return Expect(path, "a string", v);
      out = v.get<std::string>();
      return Status::OK();
    };
  }
  template <typename E>
  void operator()(const char* name, E& out, EnumNames<E> names) {
    std::vector<std::pair<E, std::string>> table(names.begin(), names.end());
    fields[name] = [&out, table](const Json& v, const std::string& path) {
      if (!v.is_string()) return Expect(path, "a string", v);
      const std::string s = v.get<std::string>();
      std::string list;
      for (const auto& [value, n] : table) {
        if (n == s) {
          out = value;
          return Status::OK();
        }
        list += (list.empty() ? "\"" : ", \"") + n + "\"";
      }
      return Status::InvalidArgument(fmt::format("{}: expected one of {}, got \"{}\"", path, list, s)).WithField(path);
    };
  }
  void operator()(const char* name, std::vector<double>& out) {
    fields[name] = [&out](const Json& v, const std::string& path) {
      if (!v.is_array()) return Expect(path, "an array of numbers", v);
      out.clear();
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_number()) return Expect(JoinJsonPath(path, i), "a number", v[i]);
        out.push_back(v[i].get<double>());
      }
      return Status::OK();
    };
  }
};

// Visits a field table and writes every field into a JSON object.
struct JsonWriter {
  Json* out;
  template <typename T>
  void operator()(const char* name, const T& value) {
    (*out)[name] = value;
  }
  template <typename E>
  void operator()(const char* name, const E& value, EnumNames<E> names) {
    (*out)[name] = NameIn(names, value);
  }
};

Status ApplyObject(const Json& obj, const std::string& path, const std::map<std::string, Setter>& fields) {
  if (!obj.is_object()) return Expect(path, "an object", obj);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string key_path = JoinJsonPath(path, it.key());
    auto f = fields.find(it.key());
    if (f == fields.end()) {
      return Status::InvalidArgument(fmt::format("{}: unknown field", key_path)).WithField(key_path);
    }
    AVCTL_RETURN_IF_ERROR(f->second(it.value(), key_path));
  }
  return Status::OK();
}

Status Range(bool ok, const std::string& field, const std::string& what) {
  if (ok) return Status::OK();
  return Status::InvalidArgument(fmt::format("{}: {}", field, what)).WithField(field);
}

}  // namespace

const char* EnumName(Pooling v) { return NameIn(kPoolingNames, v); }
const char* EnumName(Head v) { return NameIn(kHeadNames, v); }
const char* EnumName(Targets v) { return NameIn(kTargetsNames, v); }
const char* EnumName(VisualAblation v) { return NameIn(kVisualAblationNames, v); }
const char* EnumName(CrossTopdown v) { return NameIn(kCrossTopdownNames, v); }
const char* EnumName(Lateral v) { return NameIn(kLateralNames, v); }
const char* EnumName(LadderTop v) { return NameIn(kLadderTopNames, v); }
const char* EnumName(Layer0Target v) { return NameIn(kLayer0TargetNames, v); }
const char* EnumName(SelectBy v) { return NameIn(kSelectByNames, v); }
const char* EnumName(ClassWeights v) { return NameIn(kClassWeightsNames, v); }
const char* EnumName(Modalities v) { return NameIn(kModalitiesNames, v); }

Status ValidateJobConfig(const JobConfig& c, const std::string& source) {
  const ModelConfig& m = c.model;
  const TrainConfig& t = c.train;
  auto p = [](double x) { return x >= 0 && x < 1; };
  for (Status check : {
           Range(m.d_model >= 0, "model.d_model", "must be 0 (the audio dimension) or positive"),
           Range(m.heads >= 1, "model.heads", "must be at least 1"),
           Range(m.d_model == 0 || m.d_model % m.heads == 0, "model.heads",
                 fmt::format("{} heads do not divide d_model {}", m.heads, m.d_model)),
           Range(m.cross_layers >= 1 && m.self_layers >= 0, "model.cross_layers",
                 "cross_layers must be at least 1 and self_layers at least 0"),
           Range(p(m.attn_dropout) && p(m.relu_dropout) && p(m.res_dropout) && p(m.embed_dropout) && p(m.out_dropout),
                 "model", "dropout probabilities must be in [0, 1)"),
           Range(m.fusion || m.auxiliary, "model.fusion", "a model needs the fusion network or the auxiliary networks"),
           Range(m.aux_repeats >= 1, "model.aux_repeats", "must be at least 1"),
           Range(p(m.audio_dropout_p) && p(m.visual_dropout_p) && p(m.visual_ablation_p), "model",
                 "modality dropout and ablation probabilities must be in [0, 1)"),
           Range(m.modalities != Modalities::kAudio || (!m.fusion && m.auxiliary), "model.modalities",
                 "\"audio\" has no fusion network: needs fusion false and auxiliary true"),
           Range(m.modalities != Modalities::kAudio ||
                     (m.audio_dropout_p == 0 && m.visual_dropout_p == 0 && m.visual_ablation_p == 0),
                 "model.modalities", "\"audio\" has one input: modality dropout and visual ablation must be 0"),
           Range(m.modalities != Modalities::kAudio || m.head != Head::kLadder || !m.ladder_cross ||
                     m.lateral == Lateral::kSame,
                 "model.lateral", "an audio-only ladder takes its laterals from audio: needs \"same\""),
           Range(m.noise_std >= 0, "model.noise_std", "must not be negative"),
           Range(m.lambda >= 0, "model.lambda", "must not be negative"),
           Range(m.head != Head::kLadder || m.fusion || !m.ladder_av, "model.ladder_av", "needs the fusion network"),
           Range(m.head != Head::kLadder || m.auxiliary || !m.ladder_cross, "model.ladder_cross",
                 "needs the auxiliary networks"),
           Range(t.lr > 0, "train.lr", "must be positive"),
           Range(t.batch_size >= 2, "train.batch_size", "must be at least 2 (batch statistics)"),
           Range(t.epochs >= 1, "train.epochs", "must be at least 1"),
           Range(t.clip_norm > 0, "train.clip_norm", "must be positive"),
           Range(t.plateau_factor > 0 && t.plateau_factor < 1, "train.plateau_factor", "must be in (0, 1)"),
           Range(t.labeled_fraction > 0 && t.labeled_fraction <= 1, "train.labeled_fraction", "must be in (0, 1]"),
           Range(IsWorkerDevice(c.device), "device", "expected \"cpu\", \"cuda\" or \"cuda:N\""),
           Range(t.prefetch >= 0 && t.prefetch <= 64, "train.prefetch", "must be in [0, 64]"),
           Range(t.checkpoint_minutes >= 0 && std::isfinite(t.checkpoint_minutes), "train.checkpoint_minutes",
                 "must be a finite number of minutes >= 0"),
           Range(c.partition >= 1, "partition", "must be at least 1")}) {
    if (!check.ok()) return std::move(check).WithFile(source);
  }
  for (size_t i = 0; i < m.lambda_layers.size(); ++i) {
    if (m.lambda_layers[i] < 0) {
      return Range(false, JoinJsonPath("model.lambda_layers", i), "must not be negative").WithFile(source);
    }
  }
  return Status::OK();
}

Result<JobConfig> JobConfigFromJson(const Json& j, const std::string& source) {
  if (!j.is_object()) return Expect("(job)", "an object", j).WithFile(source);
  std::string variant = "ladder_av";
  if (j.contains("variant")) {
    if (!j["variant"].is_string()) return Expect("variant", "a string", j["variant"]).WithFile(source);
    variant = j["variant"].get<std::string>();
  }
  auto preset = VariantPreset(variant);
  if (!preset.ok()) return std::move(preset).TakeStatus().WithFile(source);
  JobConfig c = std::move(preset).value();

  SetterTable top, model, train;
  TopFields(c, top);
  ModelFields(c.model, model);
  TrainFields(c.train, train);
  top.fields["variant"] = [](const Json&, const std::string&) { return Status::OK(); };  // read above
  top.fields["model"] = [&model](const Json& v, const std::string& path) { return ApplyObject(v, path, model.fields); };
  top.fields["train"] = [&train](const Json& v, const std::string& path) { return ApplyObject(v, path, train.fields); };
  Status s = ApplyObject(j, "", top.fields);
  if (!s.ok()) return std::move(s).WithFile(source);
  AVCTL_RETURN_IF_ERROR(ValidateJobConfig(c, source));
  return c;
}

Json JobConfigToJson(const JobConfig& c) {
  Json out = {{"variant", c.variant}}, model = Json::object(), train = Json::object();
  TopFields(c, JsonWriter{&out});
  ModelFields(c.model, JsonWriter{&model});
  TrainFields(c.train, JsonWriter{&train});
  out["model"] = std::move(model);
  out["train"] = std::move(train);
  return out;
}

}  // namespace avctl
