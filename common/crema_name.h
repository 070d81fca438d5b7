// Parser of CREMA-D clip names: "1001_DFA_ANG_XX" (optionally with a
// directory and an extension such as ".wav") -> actor 1001, sentence DFA,
// intended emotion anger, intensity level XX (unspecified).
#pragma once

#include <string>
#include <string_view>

#include "common/emotions.h"
#include "common/status.h"

namespace avctl {

enum class IntensityLevel { kLow, kMedium, kHigh, kUnspecified };  // LO, MD, HI, XX

struct CremaClipName {
  std::string stem;    // "1001_DFA_ANG_XX": the clip id used everywhere
  int actor = 0;       // 1001..1091
  std::string sentence;  // one of the 12 sentence codes
  Emotion emotion = Emotion::kNeutral;  // the emotion the actor was asked to express
  IntensityLevel level = IntensityLevel::kUnspecified;
};

inline constexpr int kFirstCremaActor = 1001;
inline constexpr int kLastCremaActor = 1091;
inline constexpr int kNumCremaActors = kLastCremaActor - kFirstCremaActor + 1;  // 91

// The 12 CREMA-D sentence codes, in corpus order (IEO, TIE, ...).
const std::array<std::string_view, 12>& CremaSentences();

std::string_view IntensityLevelCode(IntensityLevel level);

// Errors are InvalidArgument with field set to the part at fault
// ("actor", "sentence", "emotion", "level") and a message quoting the name.
Result<CremaClipName> ParseCremaClipName(std::string_view name);

}  // namespace avctl
