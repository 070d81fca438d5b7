// Synthetic CREMA-D-shaped features on the real clip list, speakers, splits
// and labels. The generator is honest and not trivial to classify:
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
  std::vector<std::string> label_files;  // partition CSVs; one split per file
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

// Frame counts of a clip of `seconds`: audio 32 ms windows every 16 ms, video 30 fps.
int64_t AudioFramesForDuration(double seconds);
int64_t VisualFramesForDuration(double seconds);

Result<SynthSummary> SynthesizeStore(const SynthOptions& options, Logger* log);

}  // namespace avctl
