#include "store/synth.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "common/parallel.h"
#include "common/random.h"
#include "features/deltas.h"
#include "store/store_writer.h"

namespace avctl {

namespace {

constexpr int kLatent = 16;           // dimension of the latent affect/identity space
constexpr double kPi = 3.14159265358979323846;
constexpr double kMinSeconds = 1.27;  // CREMA-D's shortest clips
constexpr double kMaxSeconds = 5.0;   // and its longest
// Scale of the class signal in the latent space, against unit-variance
// frame noise and speaker offsets of norm 0.8 (audio) and 1.5 (face).
constexpr double kExpressionGain = 1.5;

using Vec = std::array<float, kLatent>;

Vec RandomUnit(Rng* rng) {
  Vec v;
  double norm = 0;
  for (auto& x : v) {
    x = static_cast<float>(rng->Gaussian());
    norm += static_cast<double>(x) * x;
  }
  norm = std::sqrt(norm);
  for (auto& x : v) x = static_cast<float>(x / norm);
  return v;
}

Vec Scaled(const Vec& v, double s) {
  Vec out;
  for (int k = 0; k < kLatent; ++k) out[k] = static_cast<float>(v[k] * s);
  return out;
}

// Class codes of one modality: classes in the same group share a base
// direction and differ only by a small class-specific part (confusable).
struct ModalityCodes {
  std::vector<Vec> code;        // per class
  std::vector<double> rate_hz;  // modulation rate of the expression, per class
};

ModalityCodes MakeCodes(Rng* rng, const std::vector<int>& group, double within_group, double rate_lo,
                        double rate_hi) {
  const int K = static_cast<int>(group.size());
  ModalityCodes m;
  m.code.resize(group.size());
  m.rate_hz.resize(group.size());
  std::map<int, Vec> bases;
  std::map<int, double> rates;
  for (int c = 0; c < K; ++c) {
    if (!bases.count(group[c])) {
      bases[group[c]] = RandomUnit(rng);
      rates[group[c]] = rng->Uniform(rate_lo, rate_hi);
    }
  }
  for (int c = 0; c < K; ++c) {
    Vec u = RandomUnit(rng);
    Vec v;
    double norm = 0;
    for (int k = 0; k < kLatent; ++k) {
      v[k] = static_cast<float>(bases[group[c]][k] + within_group * u[k]);
      norm += static_cast<double>(v[k]) * v[k];
    }
    m.code[c] = Scaled(v, 1.0 / std::sqrt(norm));
    m.rate_hz[c] = rates[group[c]];
  }
  return m;
}

// Everything drawn once per store from the seed.
struct SynthModel {
  int audio_llds = 0;
  int visual_dim = 0;
  double sharpness = 2.0;

  ModalityCodes audio_codes, visual_codes;
  Vec audio_gender, visual_gender;
  std::map<std::string, Vec> audio_speaker, visual_speaker;  // per group (actor)
  std::map<std::string, double> actor_rate;                  // log-duration offset per group
  std::map<std::string, double> sentence_log_seconds; // median log duration per sentence
  std::map<std::string, std::array<Vec, 3>> sentence_dirs;
  std::map<std::string, std::array<double, 6>> sentence_waves;  // 3 x (cycles per clip, phase)
  std::vector<double> emotion_rate;                    // log-duration offset per class

  std::vector<float> audio_mix;    // [audio_llds x kLatent]
  std::vector<float> audio_scale;  // [audio_llds]
  std::vector<float> audio_offset;
  std::vector<float> visual_mix;   // [visual_dim x kLatent]
  std::vector<float> visual_bias;  // [visual_dim]
};

SynthModel MakeModel(uint64_t seed, const Corpus& corpus, int audio_llds, int visual_dim, double sharpness) {
  SynthModel m;
  m.audio_llds = audio_llds;
  m.visual_dim = visual_dim;
  m.sharpness = sharpness;
  Rng rng(DeriveSeed(seed, "model"));

  ConfusableGroups groups;
  if (corpus.classes == CremaClassCodes()) {
    // Class order: ANG, DIS, FEA, HAP, NEU, SAD.
    // Audio groups by arousal: {ANG, HAP}, {NEU, SAD}, {FEA}, {DIS}.
    // Face groups: {ANG, DIS}, {FEA, SAD}, {HAP}, {NEU}.
    groups.audio = {0, 1, 2, 0, 3, 3};
    groups.visual = {0, 0, 1, 2, 3, 1};
    // Sad speech is slower, angry and fearful speech faster.
    groups.log_duration = {-0.05, 0.03, -0.02, 0.0, 0.0, 0.10};
  } else {
    groups = SeededConfusableGroups(static_cast<int>(corpus.classes.size()), seed);
  }
  m.audio_codes = MakeCodes(&rng, groups.audio, 0.35, 1.0, 4.0);
  m.visual_codes = MakeCodes(&rng, groups.visual, 0.35, 0.5, 2.0);
  m.audio_gender = RandomUnit(&rng);
  m.visual_gender = RandomUnit(&rng);
  m.emotion_rate = groups.log_duration;

  for (const auto& clip : corpus.clips) {
    const std::string& a = clip.group;
    if (!m.audio_speaker.count(a)) {
      Rng r(DeriveGroupSeed(seed, "actor", a));
      m.audio_speaker[a] = Scaled(RandomUnit(&r), 0.8);
      m.visual_speaker[a] = Scaled(RandomUnit(&r), 1.5);  // identity dominates face features
      m.actor_rate[a] = 0.10 * r.Gaussian();
    }
    const std::string& s = clip.sentence;  // "" (one shared trajectory) for corpora without sentence codes
    if (!m.sentence_log_seconds.count(s)) {
      Rng r(DeriveSeed(seed, "sentence:" + s));
      m.sentence_log_seconds[s] = std::log(r.Uniform(2.1, 2.9));
      std::array<Vec, 3> dirs;
      std::array<double, 6> waves;
      for (int k = 0; k < 3; ++k) {
        dirs[k] = Scaled(RandomUnit(&r), 0.5);
        waves[2 * k] = r.Uniform(1.0, 6.0);       // cycles over the clip
        waves[2 * k + 1] = r.Uniform(0.0, 2 * kPi);
      }
      m.sentence_dirs[s] = dirs;
      m.sentence_waves[s] = waves;
    }
  }

  const float mix_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(kLatent)));
  m.audio_mix.resize(static_cast<size_t>(audio_llds) * kLatent);
  for (auto& w : m.audio_mix) w = static_cast<float>(rng.Gaussian()) * mix_scale * 2.0f;
  m.audio_scale.resize(audio_llds);
  m.audio_offset.resize(audio_llds);
  for (int d = 0; d < audio_llds; ++d) {
    // LLDs live on very different scales (energies, Hz, MFCCs): z-normalisation matters.
    m.audio_scale[d] = static_cast<float>(std::exp(rng.Uniform(-1.5, 3.0)));
    m.audio_offset[d] = static_cast<float>(rng.Uniform(-3.0, 3.0)) * m.audio_scale[d];
  }
  m.visual_mix.resize(static_cast<size_t>(visual_dim) * kLatent);
  for (auto& w : m.visual_mix) w = static_cast<float>(rng.Gaussian()) * mix_scale * 2.0f;
  m.visual_bias.resize(visual_dim);
  for (auto& b : m.visual_bias) b = static_cast<float>(rng.Uniform(-0.5, 1.5));
  return m;
}

struct ClipFeatures {
  std::vector<float> audio;   // [frames x 2*llds]
  std::vector<float> visual;  // [frames x visual_dim]
  int64_t audio_frames = 0;
  int64_t visual_frames = 0;
};

// CREMA-D's intensity levels; unspecified (XX) and other corpora 0.8.
double LevelIntensity(const std::string& level) {
  if (level == "LO") return 0.6;
  if (level == "HI") return 1.0;
  return 0.8;
}

// Raised-cosine envelope: 0 outside [on, off], ramps of `ramp` seconds.
double Envelope(double t, double on, double off, double ramp) {
  if (t <= on || t >= off) return 0.0;
  double rise = std::min(1.0, (t - on) / ramp);
  double fall = std::min(1.0, (off - t) / ramp);
  double x = std::min(rise, fall);
  return 0.5 - 0.5 * std::cos(kPi * x);
}

// The latent trajectory of one modality sampled at `rate_hz` for `frames` frames.
void LatentTrack(const SynthModel& m, const CorpusClip& clip, const ModalityCodes& codes, const Vec& speaker,
                 const Vec& gender, bool with_sentence, int cls, double intensity, double on, double off,
                 double seconds, double phase, double rate_hz, int64_t frames, double rho, Rng* rng,
                 std::vector<float>* z) {
  z->assign(static_cast<size_t>(frames) * kLatent, 0.0f);
  const double gsign = clip.gender == "Male" ? 1.0 : clip.gender == "Female" ? -1.0 : 0.0;
  const double innov = std::sqrt(1.0 - rho * rho);
  Vec noise{};
  for (int k = 0; k < kLatent; ++k) noise[k] = static_cast<float>(rng->Gaussian());
  const auto* sdirs = with_sentence ? &m.sentence_dirs.at(clip.sentence) : nullptr;
  const auto* swaves = with_sentence ? &m.sentence_waves.at(clip.sentence) : nullptr;
  for (int64_t t = 0; t < frames; ++t) {
    const double time = (static_cast<double>(t) + 0.5) / rate_hz;
    const double env = Envelope(time, on, off, 0.15);
    const double mod = 1.0 + 0.6 * std::sin(2 * kPi * codes.rate_hz[cls] * time + phase);
    const double expr = kExpressionGain * intensity * env * mod;
    float* zt = z->data() + t * kLatent;
    for (int k = 0; k < kLatent; ++k) {
      noise[k] = static_cast<float>(rho * noise[k] + innov * rng->Gaussian());
      double v = expr * codes.code[cls][k] + speaker[k] + 0.7 * gsign * gender[k] + 1.0 * noise[k];
      zt[k] = static_cast<float>(v);
    }
    if (with_sentence) {
      for (int j = 0; j < 3; ++j) {
        double w = std::sin(2 * kPi * (*swaves)[2 * j] * time / seconds + (*swaves)[2 * j + 1]);
        for (int k = 0; k < kLatent; ++k) zt[k] += static_cast<float>(w * (*sdirs)[j][k]);
      }
    }
  }
}

ClipFeatures GenerateClip(const SynthModel& m, uint64_t seed, const CorpusClip& clip) {
  Rng rng(DeriveSeed(seed, "clip:" + clip.id));
  ClipFeatures out;

  // The generating class: drawn from the sharpened soft labels.
  const int K = static_cast<int>(clip.soft.size());
  std::vector<double> p(clip.soft.size());
  double total = 0;
  for (int c = 0; c < K; ++c) total += p[c] = std::pow(static_cast<double>(clip.soft[c]), m.sharpness);
  double u = rng.Uniform() * total;
  int cls = K - 1;
  for (int c = 0; c < K; ++c) {
    if (u < p[c]) {
      cls = c;
      break;
    }
    u -= p[c];
  }

  double log_seconds = m.sentence_log_seconds.at(clip.sentence) + m.emotion_rate[cls] +
                       m.actor_rate.at(clip.group) + 0.12 * rng.Gaussian();
  double seconds = std::clamp(std::exp(log_seconds), kMinSeconds, kMaxSeconds);
  out.audio_frames = AudioFramesForDuration(seconds);
  out.visual_frames = VisualFramesForDuration(seconds);

  const double intensity = LevelIntensity(clip.level) * rng.Uniform(0.75, 1.25);
  const double on = rng.Uniform(0.0, 0.3) * seconds;
  const double off = seconds - rng.Uniform(0.0, 0.3) * seconds;
  const double phase = rng.Uniform(0.0, 2 * kPi);

  // Audio: latent -> L LLD tracks (mixed scales) -> + deltas.
  std::vector<float> z;
  LatentTrack(m, clip, m.audio_codes, m.audio_speaker.at(clip.group), m.audio_gender, true, cls, intensity, on,
              off, seconds, phase, 62.5, out.audio_frames, 0.9, &rng, &z);
  const int L = m.audio_llds;
  out.audio.assign(static_cast<size_t>(out.audio_frames) * 2 * L, 0.0f);
  for (int64_t t = 0; t < out.audio_frames; ++t) {
    const float* zt = z.data() + t * kLatent;
    float* row = out.audio.data() + t * 2 * L;
    for (int d = 0; d < L; ++d) {
      const float* w = m.audio_mix.data() + static_cast<size_t>(d) * kLatent;
      float acc = 0;
      for (int k = 0; k < kLatent; ++k) acc += w[k] * zt[k];
      acc += 0.5f * rng.FastGaussian();
      row[d] = m.audio_scale[d] * acc + m.audio_offset[d];
    }
  }
  ComputeDeltas(out.audio.data(), static_cast<size_t>(out.audio_frames), static_cast<size_t>(L),
                static_cast<size_t>(2 * L), out.audio.data() + L, static_cast<size_t>(2 * L), 2);

  // Video: latent -> non-negative face descriptors (none for an audio-only store).
  if (m.visual_dim == 0) {
    out.visual_frames = 0;
    return out;
  }
  LatentTrack(m, clip, m.visual_codes, m.visual_speaker.at(clip.group), m.visual_gender, false, cls, intensity,
              on, off, seconds, phase, 30.0, out.visual_frames, 0.85, &rng, &z);
  const int D = m.visual_dim;
  out.visual.assign(static_cast<size_t>(out.visual_frames) * D, 0.0f);
  for (int64_t t = 0; t < out.visual_frames; ++t) {
    const float* zt = z.data() + t * kLatent;
    float* row = out.visual.data() + t * D;
    for (int d = 0; d < D; ++d) {
      const float* w = m.visual_mix.data() + static_cast<size_t>(d) * kLatent;
      float acc = m.visual_bias[d];
      for (int k = 0; k < kLatent; ++k) acc += w[k] * zt[k];
      acc += 0.5f * rng.FastGaussian();
      row[d] = acc > 0.0f ? acc : 0.0f;
    }
  }
  return out;
}

}  // namespace

ConfusableGroups SeededConfusableGroups(int classes, uint64_t seed) {
  ConfusableGroups g;
  const int K = std::max(classes, 0);
  Rng rng(DeriveSeed(seed, "confusable"));
  const int pairs = K / 3;
  auto shuffled = [&]() {
    std::vector<int> perm(static_cast<size_t>(K));
    for (int c = 0; c < K; ++c) perm[static_cast<size_t>(c)] = c;
    for (int i = K - 1; i > 0; --i) std::swap(perm[static_cast<size_t>(i)], perm[rng.Below(static_cast<uint64_t>(i) + 1)]);
    return perm;
  };
  auto grouped = [&](const std::vector<int>& perm) {
    std::vector<int> group(static_cast<size_t>(K));
    for (int c = 0; c < K; ++c) group[static_cast<size_t>(c)] = c;
    for (int p = 0; p < pairs; ++p) {
      const int a = perm[static_cast<size_t>(2 * p)], b = perm[static_cast<size_t>(2 * p + 1)];
      group[static_cast<size_t>(a)] = group[static_cast<size_t>(b)] = std::min(a, b);
    }
    return group;
  };
  g.audio = grouped(shuffled());
  auto shares_a_pair = [&](const std::vector<int>& visual) {
    for (int a = 0; a < K; ++a)
      for (int b = a + 1; b < K; ++b)
        if (visual[static_cast<size_t>(a)] == visual[static_cast<size_t>(b)] &&
            g.audio[static_cast<size_t>(a)] == g.audio[static_cast<size_t>(b)])
          return true;
    return false;
  };
  for (int attempt = 0; attempt < 1000; ++attempt) {
    g.visual = grouped(shuffled());
    if (!shares_a_pair(g.visual)) break;
  }
  g.log_duration.resize(static_cast<size_t>(K));
  for (auto& x : g.log_duration) x = 0.05 * rng.Gaussian();
  return g;
}

SynthProfileSpec GetSynthProfileSpec(SynthProfile profile) {
  switch (profile) {
    case SynthProfile::kFull: return {"full", 0, 65, 4096};
    case SynthProfile::kSmall: return {"small", 16, 65, 256};
    case SynthProfile::kTiny: return {"tiny", 6, 8, 32};
  }
  return {"small", 16, 65, 256};
}

Result<SynthProfile> ParseSynthProfile(const std::string& name) {
  for (SynthProfile p : {SynthProfile::kFull, SynthProfile::kSmall, SynthProfile::kTiny}) {
    if (name == GetSynthProfileSpec(p).name) return p;
  }
  return Status::InvalidArgument(fmt::format("unknown profile '{}' (expected full, small or tiny)", name))
      .WithField("--profile");
}

int64_t AudioFramesForDuration(double seconds) {
  if (seconds < 0.032) return 1;
  return 1 + static_cast<int64_t>(std::floor((seconds - 0.032) / 0.016 + 1e-9));
}

int64_t VisualFramesForDuration(double seconds) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(seconds * 30.0)));
}

std::vector<size_t> SelectClips(const Corpus& corpus, int clips_per_actor) {
  std::vector<size_t> all(corpus.clips.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  if (clips_per_actor <= 0) return all;

  // group -> class -> clip indices ordered by a hash of the clip id.
  const size_t K = corpus.classes.size();
  std::map<std::string, std::vector<std::vector<size_t>>> by_actor;
  for (size_t i = 0; i < corpus.clips.size(); ++i) {
    auto& classes = by_actor[corpus.clips[i].group];
    classes.resize(K);
    classes[static_cast<size_t>(corpus.clips[i].label)].push_back(i);
  }
  std::vector<bool> keep(corpus.clips.size(), false);
  for (auto& [actor, classes] : by_actor) {
    for (auto& list : classes) {
      std::sort(list.begin(), list.end(), [&](size_t a, size_t b) {
        uint64_t ha = DeriveSeed(0, corpus.clips[a].id), hb = DeriveSeed(0, corpus.clips[b].id);
        return ha != hb ? ha < hb : a < b;
      });
    }
    int taken = 0;
    for (size_t round = 0; taken < clips_per_actor; ++round) {
      bool any = false;
      for (size_t c = 0; c < K && taken < clips_per_actor; ++c) {
        if (round < classes[c].size()) {
          keep[classes[c][round]] = true;
          ++taken;
          any = true;
        }
      }
      if (!any) break;
    }
  }
  std::vector<size_t> out;
  for (size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) out.push_back(i);
  return out;
}

Result<SynthSummary> SynthesizeStore(const SynthOptions& options, Logger* log) {
  if (options.label_files.empty()) return Status::InvalidArgument("no label files given").WithField("--labels");
  if (options.out_dir.empty()) return Status::InvalidArgument("no output directory given").WithField("--out");
  const SynthProfileSpec spec = GetSynthProfileSpec(options.profile);
  const int clips_per_actor = options.clips_per_actor >= 0 ? options.clips_per_actor : spec.clips_per_actor;
  const int llds = options.audio_llds > 0 ? options.audio_llds : spec.audio_llds;
  const int visual_dim = options.audio_only ? 0 : options.visual_dim > 0 ? options.visual_dim : spec.visual_dim;
  // -1 means "the profile's"; anything else must be in range.
  if (options.clips_per_actor < -1) {
    return Status::InvalidArgument(fmt::format("clips per actor must be 0 (all) or more, got {}", options.clips_per_actor))
        .WithField("--clips-per-actor");
  }
  if (options.audio_llds != -1 && (options.audio_llds < 1 || options.audio_llds > 4096)) {
    return Status::InvalidArgument(fmt::format("audio LLD count must be 1..4096, got {}", options.audio_llds))
        .WithField("--audio-llds");
  }
  if (options.audio_only && options.visual_dim != -1) {
    return Status::InvalidArgument("an audio-only store has no visual dimension").WithField("--visual-dim");
  }
  if (options.visual_dim != -1 && (options.visual_dim < 1 || options.visual_dim > 65536)) {
    return Status::InvalidArgument(fmt::format("visual dim must be 1..65536, got {}", options.visual_dim))
        .WithField("--visual-dim");
  }
  if (!(options.label_sharpness >= 0 && options.label_sharpness <= 50)) {
    return Status::InvalidArgument("label sharpness must be in [0, 50]").WithField("--label-sharpness");
  }

  AVCTL_ASSIGN_OR_RETURN(Corpus corpus, LoadLabelSource(options.label_files, options.labels));
  const std::vector<size_t> selected = SelectClips(corpus, clips_per_actor);
  const SynthModel model = MakeModel(options.seed, corpus, llds, visual_dim, options.label_sharpness);

  StoreLayout layout;
  layout.audio_dim = 2 * llds;
  layout.visual_dim = visual_dim;
  layout.partitions = corpus.partitions;
  layout.classes = corpus.classes;
  layout.class_names = corpus.class_names;
  AVCTL_ASSIGN_OR_RETURN(auto writer, StoreWriter::Create(options.out_dir, layout, options.overwrite));

  const int threads = ResolveThreads(options.threads);
  const size_t block = static_cast<size_t>(threads) * 8;
  log->Info("synth: {} of {} clips, audio {} dims, visual {} dims, seed {}, {} thread(s)", selected.size(),
            corpus.clips.size(), layout.audio_dim, layout.visual_dim, options.seed, threads);

  SynthSummary summary;
  summary.audio_dim = layout.audio_dim;
  summary.visual_dim = layout.visual_dim;
  std::vector<ClipFeatures> buffers(block);
  for (size_t start = 0; start < selected.size(); start += block) {
    const size_t n = std::min(block, selected.size() - start);
    ParallelFor(n, threads, [&](size_t i) {
      buffers[i] = GenerateClip(model, options.seed, corpus.clips[selected[start + i]]);
    });

    for (size_t i = 0; i < n; ++i) {
      const CorpusClip& c = corpus.clips[selected[start + i]];
      const ClipFeatures& f = buffers[i];
      AVCTL_RETURN_IF_ERROR(writer->AddClip(ClipRecordFromCorpus(c), f.audio.data(), f.audio_frames, f.visual.data(),
                                            f.visual_frames));
      summary.audio_frames += f.audio_frames;
      summary.visual_frames += f.visual_frames;
    }
    summary.clips += static_cast<int64_t>(n);
  }

  AVCTL_ASSIGN_OR_RETURN(Json label_files, LabelFilesProvenance(options.label_files));
  Json provenance = {{"kind", "synthetic"},
                     {"generator", "avctl-synth-1"},
                     {"seed", options.seed},
                     {"profile", spec.name},
                     {"clips_per_actor", clips_per_actor},
                     {"audio_llds", llds},
                     {"visual_dim", visual_dim},
                     {"label_sharpness", options.label_sharpness},
                     {"label_files", label_files}};
  // Added only where they say something, so CREMA-D stores stay byte-identical.
  if (options.labels.format != LabelFormat::kCremaD) provenance["labels"] = LabelProvenanceToJson(corpus.label_provenance);
  if (options.audio_only) provenance["audio_only"] = true;
  AVCTL_RETURN_IF_ERROR(writer->Finish(/*synthetic=*/true, provenance));
  summary.bytes = summary.audio_frames * layout.audio_dim * 4 + summary.visual_frames * layout.visual_dim * 2;
  return summary;
}

}  // namespace avctl
