// Synthetic CREMA-D-shaped features on the real clip list, speakers, splits
// and labels; or on any corpus's labels file (store/label_source.h): then
// the classes are the file's, the confusable pairs are drawn by a seeded
// rule (SeededConfusableGroups), there are no sentence trajectories and
// intensity levels (one shared trajectory, intensity 0.8), and clips of
// speakers with no stated gender get no gender component. The generator is honest and not trivial to classify:
//  - class information is spread over time: each clip expresses its emotion
//    in a window with soft on/offsets, modulated at a class-specific rate,
//    under temporally correlated noise that dominates any single frame;
//  - every actor has its own offsets in both modalities (identity dominates
//    the face features, as in VGG-face), plus a gender component and, in the
//    audio, a sentence-specific trajectory, so speaker-independent splits
//    matter and memorising speakers does not help;
//  - classes are confusable in one modality but not the other: the audio
//    barely separates anger from happiness and sadness from neutral (arousal
//    pairs); the face barely separates anger from disgust and fear from
//    sadness; fusion resolves both;
//  - label noise follows the soft labels: the class that generates a clip's
//    features is drawn from its soft labels sharpened by an exponent (2 by
//    default), so ambiguous clips look ambiguous;
//  - audio is 2 x L dims: L smooth LLD-like tracks with mixed scales and
//    offsets, then their openSMILE delta regression (W = 2); video is
//    non-negative (post-ReLU, like VGG-face fc activations).
// Durations follow CREMA-D (about 1.3 to 5 s, by sentence, emotion and
// actor); audio has one frame per 16 ms (32 ms windows), video 30 frames/s.
// Each clip draws from its own random stream (seed, clip id), clips are
// generated in parallel and written in order: the same seed gives a
// byte-identical store whatever the thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/status.h"
#include "store/label_source.h"
#include "store/labels.h"

namespace avctl {

enum class SynthProfile { kFull, kSmall, kTiny };

struct SynthProfileSpec {
  const char* name;
  int clips_per_actor;  // 0 = every clip
  int audio_llds;       // audio dim = 2 x audio_llds (LLDs + deltas)
  int visual_dim;
};

SynthProfileSpec GetSynthProfileSpec(SynthProfile profile);
Result<SynthProfile> ParseSynthProfile(const std::string& name);

struct SynthOptions {
  std::vector<std::string> label_files;  // partition CSVs; one split per file (generic: see store/label_source.h)
  LabelSourceOptions labels;              // the files' format, columns and classes (CREMA-D's by default)
  bool audio_only = false;                // no visual array (a corpus without video)
  std::string out_dir;
  uint64_t seed = 1;
  SynthProfile profile = SynthProfile::kSmall;
  int clips_per_actor = -1;   // -1: the profile's
  int audio_llds = -1;        // -1: the profile's
  int visual_dim = -1;        // -1: the profile's
  double label_sharpness = 2.0;  // exponent applied to soft labels when drawing the generating class
  int threads = 0;            // 0: hardware concurrency
  bool overwrite = false;
};

struct SynthSummary {
  int64_t clips = 0;
  int64_t audio_frames = 0;
  int64_t visual_frames = 0;
  int64_t bytes = 0;
  int64_t audio_dim = 0;
  int64_t visual_dim = 0;
};

// Chooses up to `clips_per_actor` clips of every actor, balanced over the
// actor's hard labels (round robin over classes, clips within a class in a
// fixed pseudo-random order of their ids). Independent of the seed, so every
// seed of a profile uses the same clips. 0 keeps every clip. Corpus order kept.
std::vector<size_t> SelectClips(const Corpus& corpus, int clips_per_actor);

// The class structure of a synthetic corpus whose classes are not
// CREMA-D's (those keep the fixed structure above): class indices that
// share a group are the pairs one modality barely separates. With K
// classes, K / 3 disjoint pairs per modality (six classes: two, as in the
// CREMA-D structure; four: one; two: none), drawn by a seeded shuffle; the
// face's pairs never repeat an audio pair, so fusion can resolve each one.
// log_duration: a per-class offset of the log duration, 0.05 N(0, 1).
struct ConfusableGroups {
  std::vector<int> audio, visual;  // group id per class
  std::vector<double> log_duration;
};
ConfusableGroups SeededConfusableGroups(int classes, uint64_t seed);

// Frame counts of a clip of `seconds`: audio 32 ms windows every 16 ms, video 30 fps.
int64_t AudioFramesForDuration(double seconds);
int64_t VisualFramesForDuration(double seconds);

Result<SynthSummary> SynthesizeStore(const SynthOptions& options, Logger* log);

}  // namespace avctl
